package dev.sbx.bench;

import dev.sbx.proto.orchestrator.CreateSandboxRequest;
import dev.sbx.proto.orchestrator.SandboxServiceGrpc;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * How much host memory an idle sandbox costs, and so how many fit (issue 3: ≥ 300 idle sandboxes, ≤
 * 40 MB each, runc). Creates {@code count} sandboxes (busybox template, no warm pool, 1 vCPU / 256
 * MiB) one after another, lets them idle for {@code idle} seconds, then reads:
 *
 * <ul>
 *   <li>the memory cgroup of the layout's parent ({@code /sys/fs/cgroup/memory/sbxs}: every
 *       sandbox's processes, page cache of their upper layers included), per sandbox;
 *   <li>the proportional set size (PSS, {@code /proc/<pid>/smaps_rollup}) of every process in those
 *       cgroups, per sandbox: shared pages (envd's AOT cache and libjvm, mapped from the one envd
 *       directory) counted once across all sandboxes, so this is what one more sandbox adds;
 *   <li>the host's {@code MemAvailable} before and after, per sandbox (noisy where other work
 *       runs).
 * </ul>
 *
 * The sandboxes that fit are {@code MemAvailable before / PSS per sandbox}, an extrapolation.
 * Layout {@code sbxs} ({@link BenchNode}; its /24 holds at most 253 sandboxes).
 *
 * <p>{@code java -cp … dev.sbx.bench.DensityBenchmark <envd-dist> [runc|runsc] [count] [idle s]}
 */
public final class DensityBenchmark {
  private DensityBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: DensityBenchmark <envd-dist> [runc|runsc] [count] [idle seconds]");
      System.exit(2);
    }
    Path envdDist = Path.of(args[0]).toAbsolutePath();
    String runtime = args.length > 1 ? args[1] : "runc";
    int count = args.length > 2 ? Integer.parseInt(args[2]) : 20;
    int idleSeconds = args.length > 3 ? Integer.parseInt(args[3]) : 15;
    System.out.println(Machine.describe());
    long availableBefore = memAvailableKb();
    try (BenchNode node = BenchNode.start(envdDist, runtime, Map.of("cold", 0), count, 4)) {
      var sandboxes =
          SandboxServiceGrpc.newBlockingStub(node.channel).withDeadlineAfter(1, TimeUnit.HOURS);
      Path cgroup = Path.of("/sys/fs/cgroup/memory", BenchNode.PREFIX);
      long cgroupBefore = cgroupUsageBytes(cgroup);
      long start = System.nanoTime();
      for (int i = 0; i < count; i++) {
        sandboxes.create(
            CreateSandboxRequest.newBuilder()
                .setSandboxId("d" + i)
                .setTemplateId("cold")
                .setCpuCount(1)
                .setMemoryMb(256)
                .build());
      }
      double createSeconds = (System.nanoTime() - start) / 1e9;
      Thread.sleep(idleSeconds * 1000L);
      long availableAfter = memAvailableKb();
      long cgroupAfter = cgroupUsageBytes(cgroup);
      List<Long> pids = pidsBelow(cgroup);
      long pssKb = 0;
      for (long pid : pids) {
        pssKb += pssKb(pid);
      }
      double perSandboxPssMib = pssKb / 1024.0 / count;
      System.out.printf(
          "%d idle sandboxes (%s, busybox template, 1 vCPU / 256 MiB), created in %.1f s, then"
              + " %d s idle; load %s%n",
          count, runtime, createSeconds, idleSeconds, Machine.loadAverage());
      System.out.printf("| measure | all | per sandbox |%n|---|---|---|%n");
      System.out.printf(
          "| memory cgroup usage (%s) | %.0f MiB | %.1f MiB |%n",
          cgroup,
          (cgroupAfter - cgroupBefore) / 1048576.0,
          (cgroupAfter - cgroupBefore) / 1048576.0 / count);
      System.out.printf(
          "| PSS of the sandboxes' %d processes | %.0f MiB | %.1f MiB |%n",
          pids.size(), pssKb / 1024.0, perSandboxPssMib);
      System.out.printf(
          "| host MemAvailable drop | %.0f MiB | %.1f MiB |%n",
          (availableBefore - availableAfter) / 1024.0,
          (availableBefore - availableAfter) / 1024.0 / count);
      System.out.printf(
          "idle sandboxes that fit in MemAvailable before the run (%.0f MiB) at the PSS per"
              + " sandbox: %.0f%n",
          availableBefore / 1024.0, availableBefore / 1024.0 / perSandboxPssMib);
    }
  }

  private static long memAvailableKb() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
      if (line.startsWith("MemAvailable:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IOException("no MemAvailable in /proc/meminfo");
  }

  /** cgroup v1 {@code memory.usage_in_bytes}, else v2 {@code memory.current}; 0 if neither. */
  private static long cgroupUsageBytes(Path v1) throws IOException {
    Path file = v1.resolve("memory.usage_in_bytes");
    if (!Files.exists(file)) {
      file = Path.of("/sys/fs/cgroup", BenchNode.PREFIX, "memory.current");
    }
    return Files.exists(file) ? Long.parseLong(Files.readString(file).strip()) : 0;
  }

  /** Every pid in the cgroup tree below {@code dir}. */
  private static List<Long> pidsBelow(Path dir) throws IOException {
    List<Long> pids = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return pids;
    }
    Path procs = dir.resolve("cgroup.procs");
    if (Files.exists(procs)) {
      for (String line : Files.readAllLines(procs)) {
        if (!line.isBlank()) {
          pids.add(Long.parseLong(line.strip()));
        }
      }
    }
    try (DirectoryStream<Path> children = Files.newDirectoryStream(dir, Files::isDirectory)) {
      for (Path child : children) {
        pids.addAll(pidsBelow(child));
      }
    }
    return pids;
  }

  private static long pssKb(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps_rollup"))) {
        if (line.startsWith("Pss:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException e) {
      // gone meanwhile
    }
    return 0;
  }
}
