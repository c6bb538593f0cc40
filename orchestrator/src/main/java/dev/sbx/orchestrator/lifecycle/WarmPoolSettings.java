package dev.sbx.orchestrator.lifecycle;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Map;

/**
 * How many started sandboxes each template keeps waiting to be claimed by a create, and when a
 * claimed one is replaced.
 *
 * <p>Starting a warm sandbox takes about a CPU-second (runc, then envd's JVM and its warm-up
 * command), and on a host with few CPUs it slows whatever runs beside it: most of all the claimed
 * sandbox's first commands, which come right after its create. So a claim that leaves a warm
 * sandbox of its template waiting replaces itself only {@code refillDelay} after the template's
 * last claim; a claim that empties the pool replaces itself at once, because the next create would
 * otherwise start cold.
 *
 * @param defaultSize the pool size of every template not named in {@code sizes} (0: no pool)
 * @param sizes pool sizes by template id (0: no pool for that template)
 * @param refillDelay how long after a template's last claim a pool that still holds a warm sandbox
 *     waits before it is topped up (zero: at once)
 */
public record WarmPoolSettings(int defaultSize, Map<String, Integer> sizes, Duration refillDelay) {

  /** The default {@link #refillDelay}: a new sandbox's first commands come in its first seconds. */
  public static final Duration DEFAULT_REFILL_DELAY = Duration.ofSeconds(2);

  /** No warm pool at all: every create is a cold start. */
  public static final WarmPoolSettings OFF = new WarmPoolSettings(0, Map.of());

  public WarmPoolSettings {
    sizes = Map.copyOf(requireNonNull(sizes, "sizes"));
    requireNonNull(refillDelay, "refillDelay");
    if (defaultSize < 0) {
      throw new IllegalArgumentException("defaultSize must not be negative: " + defaultSize);
    }
    sizes.forEach(
        (template, size) -> {
          if (size < 0) {
            throw new IllegalArgumentException(
                "pool size of " + template + " must not be negative: " + size);
          }
        });
    if (refillDelay.isNegative()) {
      throw new IllegalArgumentException("refillDelay must not be negative: " + refillDelay);
    }
  }

  /**
   * Pools of these sizes, topped up {@link #DEFAULT_REFILL_DELAY} after a claim that leaves one.
   */
  public WarmPoolSettings(int defaultSize, Map<String, Integer> sizes) {
    this(defaultSize, sizes, DEFAULT_REFILL_DELAY);
  }

  /** The same size for every template. */
  public static WarmPoolSettings ofSize(int size) {
    return new WarmPoolSettings(size, Map.of());
  }

  /** The same pools, topped up {@code delay} after a claim that leaves a warm sandbox waiting. */
  public WarmPoolSettings withRefillDelay(Duration delay) {
    return new WarmPoolSettings(defaultSize, sizes, delay);
  }

  /** The pool size of {@code templateId}. */
  public int size(String templateId) {
    return sizes.getOrDefault(templateId, defaultSize);
  }

  /** Whether no template has a pool. */
  public boolean off() {
    return defaultSize == 0 && sizes.values().stream().allMatch(size -> size == 0);
  }
}
