package dev.sbx.orchestrator.runtime;

/**
 * A sandbox's cgroup limits.
 *
 * @param cpuCount vCPUs: a CPU quota of {@code cpuCount} × the period (100 ms)
 * @param memoryMB memory in MiB, swap included (the sandbox gets no swap)
 * @param pidsLimit the most tasks (processes and threads) at once, envd's included
 */
public record ResourceLimits(int cpuCount, int memoryMB, int pidsLimit) {
  /** E2B's defaults: 2 vCPUs, 512 MiB; 1024 tasks. */
  public static final ResourceLimits DEFAULT = new ResourceLimits(2, 512, 1024);

  /** The CFS period the quota is a multiple of, in microseconds. */
  public static final long CPU_PERIOD_MICROS = 100_000;

  public ResourceLimits {
    if (cpuCount < 1) {
      throw new IllegalArgumentException("cpuCount must be at least 1: " + cpuCount);
    }
    if (memoryMB < 64) {
      throw new IllegalArgumentException("memoryMB must be at least 64: " + memoryMB);
    }
    if (pidsLimit < 16) {
      throw new IllegalArgumentException("pidsLimit must be at least 16: " + pidsLimit);
    }
  }

  /** The CPU quota per period, in microseconds. */
  public long cpuQuotaMicros() {
    return cpuCount * CPU_PERIOD_MICROS;
  }

  /** The memory limit in bytes. */
  public long memoryBytes() {
    return memoryMB * 1024L * 1024L;
  }
}
