package dev.sbx.orchestrator.lifecycle;

import dev.sbx.orchestrator.runtime.ResourceLimits;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Changes a running container's limits by writing its cgroup files, without forking the runtime
 * ({@code runc update} costs a process start): v1 {@code memory.limit_in_bytes} and {@code
 * memory.memsw.limit_in_bytes} (where swap is accounted; memory + swap never below memory, so the
 * order depends on the direction), {@code cpu.cfs_period_us}/{@code cpu.cfs_quota_us}, {@code
 * pids.max}; v2 {@code memory.max}, {@code memory.swap.max} (0), {@code cpu.max}, {@code pids.max}.
 * Each file is written where it exists in the container's cgroup directories.
 */
final class CgroupLimits {
  private CgroupLimits() {}

  /**
   * @throws UncheckedIOException if a file cannot be written (e.g. memory below what is in use)
   * @throws IllegalStateException if the container has no cgroup with a memory limit
   */
  static void apply(List<Path> cgroupDirs, ResourceLimits limits) {
    Set<Path> dirs = new LinkedHashSet<>();
    try {
      for (Path dir : cgroupDirs) {
        dirs.add(dir.toRealPath()); // cpu and cpuacct may be one hierarchy
      }
      boolean memorySet = false;
      for (Path dir : dirs) {
        Path memory = dir.resolve("memory.limit_in_bytes");
        if (Files.exists(memory)) {
          Path memsw = dir.resolve("memory.memsw.limit_in_bytes");
          boolean swap = Files.exists(memsw);
          boolean raising = limits.memoryBytes() > read(memory);
          if (swap && raising) {
            write(memsw, limits.memoryBytes());
          }
          write(memory, limits.memoryBytes());
          if (swap && !raising) {
            write(memsw, limits.memoryBytes());
          }
          memorySet = true;
        }
        if (Files.exists(dir.resolve("memory.max"))) {
          write(dir.resolve("memory.max"), limits.memoryBytes());
          if (Files.exists(dir.resolve("memory.swap.max"))) {
            write(dir.resolve("memory.swap.max"), 0);
          }
          memorySet = true;
        }
        if (Files.exists(dir.resolve("cpu.cfs_quota_us"))) {
          write(dir.resolve("cpu.cfs_period_us"), ResourceLimits.CPU_PERIOD_MICROS);
          write(dir.resolve("cpu.cfs_quota_us"), limits.cpuQuotaMicros());
        }
        if (Files.exists(dir.resolve("cpu.max"))) {
          Files.writeString(
              dir.resolve("cpu.max"),
              limits.cpuQuotaMicros() + " " + ResourceLimits.CPU_PERIOD_MICROS);
        }
        if (Files.exists(dir.resolve("pids.max"))) {
          write(dir.resolve("pids.max"), limits.pidsLimit());
        }
      }
      if (!memorySet) {
        throw new IllegalStateException("no memory cgroup among " + cgroupDirs);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot change the limits in " + cgroupDirs + ": " + e, e);
    }
  }

  private static long read(Path file) throws IOException {
    return Long.parseLong(Files.readString(file).strip());
  }

  private static void write(Path file, long value) throws IOException {
    Files.writeString(file, Long.toString(value));
  }
}
