package dev.sbx.orchestrator.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A sandbox's share of the CPU when CPUs are contended, as opposed to its quota (the most it may
 * use, {@link ResourceLimits#cpuCount}): cgroup v1 {@code cpu.shares}, v2 {@code cpu.weight}. A
 * warm sandbox starts with the least ({@link SandboxSpec#background}), so that a JVM starting ahead
 * of need takes the CPU only when nothing else wants it, and gets the kernel's default when it is
 * claimed.
 */
final class CpuWeight {
  /** The least {@code cpu.shares} of cgroup v1; runc makes it {@code cpu.weight} 1 on v2. */
  static final int BACKGROUND_SHARES = 2;

  private static final long NORMAL_SHARES = 1024;
  private static final long NORMAL_WEIGHT = 100;

  private CpuWeight() {}

  /**
   * Gives the cgroup the kernel's default weight, in each of {@code cgroupDirs} that has the file.
   *
   * @throws SandboxRuntimeException if a file cannot be written
   */
  static void normal(List<Path> cgroupDirs) {
    for (Path dir : cgroupDirs) {
      try {
        writeIfPresent(dir.resolve("cpu.shares"), NORMAL_SHARES);
        writeIfPresent(dir.resolve("cpu.weight"), NORMAL_WEIGHT);
      } catch (IOException e) {
        throw new SandboxRuntimeException("cannot set the CPU weight in " + dir + ": " + e, e);
      }
    }
  }

  private static void writeIfPresent(Path file, long value) throws IOException {
    if (Files.exists(file)) {
      Files.writeString(file, Long.toString(value));
    }
  }
}
