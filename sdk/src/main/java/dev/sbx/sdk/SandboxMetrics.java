package dev.sbx.sdk;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/**
 * One sample of a sandbox's resource use ({@code GET /sandboxes/{id}/metrics}).
 *
 * @param timestamp when it was taken
 * @param cpuCount vCPUs
 * @param cpuUsedPct CPU use in percent
 * @param memUsed used memory, bytes
 * @param memTotal total memory, bytes
 * @param memCache page cache, bytes
 * @param diskUsed used disk, bytes
 * @param diskTotal disk size, bytes
 */
public record SandboxMetrics(
    Instant timestamp,
    int cpuCount,
    double cpuUsedPct,
    long memUsed,
    long memTotal,
    long memCache,
    long diskUsed,
    long diskTotal) {
  public SandboxMetrics {
    requireNonNull(timestamp, "timestamp");
  }
}
