package dev.sbx.api.store;

/**
 * What a team may use.
 *
 * @param concurrentSandboxes sandboxes running or starting at once (E2B's base tier: 20)
 * @param maxLengthHours the longest timeout and the longest life of a sandbox (base tier: 1)
 * @param maxVcpu the most vCPUs of one sandbox
 * @param maxRamMb the most memory of one sandbox
 * @param requestsPerSecond the steady request rate of one API key
 * @param requestBurst how many requests one API key may make at once before the rate applies
 */
public record TeamLimits(
    int concurrentSandboxes,
    int maxLengthHours,
    int maxVcpu,
    int maxRamMb,
    int requestsPerSecond,
    int requestBurst) {

  /** E2B's base tier, with 50 requests per second (burst 100) per key. */
  public static final TeamLimits BASE = new TeamLimits(20, 1, 8, 8192, 50, 100);

  public TeamLimits {
    positive(concurrentSandboxes, "concurrentSandboxes");
    positive(maxLengthHours, "maxLengthHours");
    positive(maxVcpu, "maxVcpu");
    positive(maxRamMb, "maxRamMb");
    positive(requestsPerSecond, "requestsPerSecond");
    positive(requestBurst, "requestBurst");
  }

  private static void positive(int value, String name) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be at least 1: " + value);
    }
  }
}
