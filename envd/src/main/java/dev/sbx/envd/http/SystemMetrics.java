package dev.sbx.envd.http;

import static java.util.Objects.requireNonNull;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * The numbers of {@code GET /metrics}, measured, not estimated.
 *
 * <ul>
 *   <li>CPU: the busy share of all CPUs between two reads of {@code /proc/stat} (the previous call
 *       or, for the first, envd's start), as gopsutil's {@code cpu.Percent(0)} does in E2B's envd;
 *       reads closer than 100 ms apart return the previous value. {@code cpu_count} is the JVM's
 *       {@link Runtime#availableProcessors()}, which honours the cgroup CPU quota and the affinity
 *       mask.
 *   <li>Memory: when envd's cgroup (v2 {@code memory.max}, v1 {@code memory.limit_in_bytes}, this
 *       cgroup or the nearest limited ancestor) has a limit below the machine's memory, total is
 *       the limit, used is the cgroup's usage minus its inactive page cache, cache is its page
 *       cache; otherwise {@code /proc/meminfo} as gopsutil reads it (used = total - free - buffers
 *       - cached - reclaimable slab).
 *   <li>Disk: the file system of the sandbox root: total and total minus what is available to
 *       unprivileged users, as E2B's {@code statfs}.
 * </ul>
 */
public final class SystemMetrics {
  private static final long MIN_SAMPLE_NANOS = 100_000_000L;

  /** One reading, in bytes; {@link #toJson()} gives E2B's field names. */
  public record Metrics(
      long timestamp,
      int cpuCount,
      double cpuUsedPercent,
      long memTotal,
      long memUsed,
      long memCache,
      long diskUsed,
      long diskTotal) {

    public JsonObject toJson() {
      JsonObject json = new JsonObject();
      json.addProperty("ts", timestamp);
      json.addProperty("cpu_count", cpuCount);
      json.addProperty("cpu_used_pct", cpuUsedPercent);
      json.addProperty("mem_total", memTotal);
      json.addProperty("mem_used", memUsed);
      json.addProperty("mem_cache", memCache);
      json.addProperty("mem_total_mib", memTotal / (1024 * 1024));
      json.addProperty("mem_used_mib", memUsed / (1024 * 1024));
      json.addProperty("disk_used", diskUsed);
      json.addProperty("disk_total", diskTotal);
      return json;
    }
  }

  record Memory(long total, long used, long cache) {}

  private record CpuSample(long total, long idle, long nanos) {}

  private final Path proc;
  private final Path cgroupRoot;
  private final Path disk;
  private final IntSupplier cpuCount;
  private final LongSupplier nanoTime;
  private final Clock clock;

  private @Nullable CpuSample lastSample;
  private double lastPercent;

  /** Metrics of this machine; disk use is that of the file system holding {@code root}. */
  public SystemMetrics(Path root) {
    this(
        Path.of("/proc"),
        Path.of("/sys/fs/cgroup"),
        requireNonNull(root, "root"),
        Runtime.getRuntime()::availableProcessors,
        System::nanoTime,
        Clock.systemUTC());
  }

  SystemMetrics(
      Path proc,
      Path cgroupRoot,
      Path disk,
      IntSupplier cpuCount,
      LongSupplier nanoTime,
      Clock clock) {
    this.proc = proc;
    this.cgroupRoot = cgroupRoot;
    this.disk = disk;
    this.cpuCount = cpuCount;
    this.nanoTime = nanoTime;
    this.clock = clock;
    try {
      this.lastSample = cpuSample();
    } catch (IOException | RuntimeException e) {
      this.lastSample = null;
    }
  }

  public synchronized Metrics read() throws IOException {
    double cpu = cpuPercent();
    Memory memory = memory();
    FileStore store = Files.getFileStore(disk);
    long diskTotal = store.getTotalSpace();
    long diskUsed = Math.max(0, diskTotal - store.getUsableSpace());
    return new Metrics(
        clock.instant().getEpochSecond(),
        Math.max(1, cpuCount.getAsInt()),
        cpu,
        memory.total(),
        memory.used(),
        memory.cache(),
        diskUsed,
        diskTotal);
  }

  private double cpuPercent() throws IOException {
    CpuSample now = cpuSample();
    CpuSample last = lastSample;
    if (last == null) {
      lastSample = now;
      return lastPercent;
    }
    if (now.nanos() - last.nanos() < MIN_SAMPLE_NANOS) {
      return lastPercent;
    }
    long total = now.total() - last.total();
    long idle = now.idle() - last.idle();
    double percent = total <= 0 ? 0 : 100.0 * (total - idle) / total;
    percent = Math.min(100, Math.max(0, percent));
    lastSample = now;
    lastPercent = Math.round(percent * 100) / 100.0;
    return lastPercent;
  }

  /** The aggregate "cpu" line of /proc/stat: user nice system idle iowait irq softirq steal. */
  private CpuSample cpuSample() throws IOException {
    for (String line : Files.readAllLines(proc.resolve("stat"), StandardCharsets.US_ASCII)) {
      if (line.startsWith("cpu ")) {
        String[] f = line.trim().split("\\s+");
        long total = 0;
        for (int i = 1; i < Math.min(f.length, 9); i++) {
          total += Long.parseLong(f[i]);
        }
        long idle = Long.parseLong(f[4]) + (f.length > 5 ? Long.parseLong(f[5]) : 0);
        return new CpuSample(total, idle, nanoTime.getAsLong());
      }
    }
    throw new IOException(proc.resolve("stat") + " has no aggregate cpu line");
  }

  Memory memory() throws IOException {
    Map<String, Long> meminfo = keyValues(proc.resolve("meminfo"));
    long total = meminfo.getOrDefault("MemTotal", 0L) * 1024;
    Memory limited = cgroupMemory(total);
    if (limited != null) {
      return limited;
    }
    long free = meminfo.getOrDefault("MemFree", 0L) * 1024;
    long buffers = meminfo.getOrDefault("Buffers", 0L) * 1024;
    long cached =
        (meminfo.getOrDefault("Cached", 0L) + meminfo.getOrDefault("SReclaimable", 0L)) * 1024;
    long used = total - free - buffers - cached;
    if (used < 0) {
      used = total - meminfo.getOrDefault("MemAvailable", 0L) * 1024;
    }
    return new Memory(total, Math.max(0, used), cached);
  }

  /** The memory of envd's cgroup when it has a limit below {@code hostTotal}, else null. */
  private @Nullable Memory cgroupMemory(long hostTotal) throws IOException {
    Path selfCgroup = proc.resolve("self/cgroup");
    if (!Files.isReadable(selfCgroup)) {
      return null;
    }
    List<String> lines = Files.readAllLines(selfCgroup, StandardCharsets.UTF_8);
    if (Files.exists(cgroupRoot.resolve("cgroup.controllers"))) {
      for (String line : lines) {
        if (line.startsWith("0::")) {
          return limitedMemory(
              cgroupRoot, line.substring(3), "memory.max", "memory.current", hostTotal, true);
        }
      }
      return null;
    }
    for (String line : lines) {
      String[] f = line.split(":", 3);
      if (f.length == 3 && List.of(f[1].split(",")).contains("memory")) {
        return limitedMemory(
            cgroupRoot.resolve("memory"),
            f[2],
            "memory.limit_in_bytes",
            "memory.usage_in_bytes",
            hostTotal,
            false);
      }
    }
    return null;
  }

  private static @Nullable Memory limitedMemory(
      Path hierarchy, String cgroup, String limitFile, String usageFile, long hostTotal, boolean v2)
      throws IOException {
    // Walk from envd's cgroup up to the root of the hierarchy; with a cgroup namespace the
    // hierarchy root is envd's own cgroup, so it is tried last.
    Path dir = hierarchy.resolve(cgroup.replaceFirst("^/+", "")).normalize();
    if (!dir.startsWith(hierarchy)) {
      dir = hierarchy;
    }
    for (Path d = dir; d != null && d.startsWith(hierarchy); d = d.getParent()) {
      Long limit = readNumber(d.resolve(limitFile));
      if (limit == null || limit <= 0 || (hostTotal > 0 && limit >= hostTotal)) {
        continue;
      }
      Long usage = readNumber(d.resolve(usageFile));
      if (usage == null) {
        continue;
      }
      Map<String, Long> stat = keyValues(d.resolve("memory.stat"));
      long inactiveFile =
          v2
              ? stat.getOrDefault("inactive_file", 0L)
              : stat.getOrDefault("total_inactive_file", stat.getOrDefault("inactive_file", 0L));
      long cache =
          v2
              ? stat.getOrDefault("file", 0L)
              : stat.getOrDefault("total_cache", stat.getOrDefault("cache", 0L));
      long used = Math.max(0, usage - inactiveFile);
      return new Memory(limit, Math.min(used, limit), cache);
    }
    return null;
  }

  private static @Nullable Long readNumber(Path file) throws IOException {
    try {
      String text = Files.readString(file, StandardCharsets.US_ASCII).trim();
      return text.equals("max") ? null : Long.parseLong(text);
    } catch (NoSuchFileException | NumberFormatException e) {
      return null;
    }
  }

  /** "key value" or "key: value kB" lines; the first number of each line counts. */
  private static Map<String, Long> keyValues(Path file) throws IOException {
    Map<String, Long> values = new HashMap<>();
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      return values;
    }
    for (String line : lines) {
      String[] f = line.trim().split("[:\\s]+");
      if (f.length >= 2) {
        try {
          values.put(f[0], Long.parseLong(f[1]));
        } catch (NumberFormatException e) {
          // not a numeric line
        }
      }
    }
    return values;
  }
}
