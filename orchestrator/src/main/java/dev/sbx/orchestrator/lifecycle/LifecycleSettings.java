package dev.sbx.orchestrator.lifecycle;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * How {@link SandboxLifecycle} creates sandboxes.
 *
 * @param envdDist envd's directory ({@code envd/target/envd-dist}), mounted read-only at {@code
 *     /opt/sbx} in every sandbox
 * @param maxSandboxes the most sandboxes at once (those being created included)
 * @param healthTimeout how long envd may take to answer {@code /health} with 204 after start
 * @param reaperInterval how often sandboxes past their end time are looked for
 * @param nameservers the sandboxes' {@code /etc/resolv.conf} name servers (empty: none)
 * @param warmPool how many started sandboxes each template keeps for creates to claim
 */
public record LifecycleSettings(
    Path envdDist,
    int maxSandboxes,
    Duration healthTimeout,
    Duration reaperInterval,
    List<String> nameservers,
    WarmPoolSettings warmPool) {

  public LifecycleSettings {
    requireNonNull(envdDist, "envdDist");
    requireNonNull(healthTimeout, "healthTimeout");
    requireNonNull(reaperInterval, "reaperInterval");
    nameservers = List.copyOf(requireNonNull(nameservers, "nameservers"));
    requireNonNull(warmPool, "warmPool");
    if (maxSandboxes < 1) {
      throw new IllegalArgumentException("maxSandboxes must be at least 1: " + maxSandboxes);
    }
    if (healthTimeout.isNegative() || healthTimeout.isZero()) {
      throw new IllegalArgumentException("healthTimeout must be positive: " + healthTimeout);
    }
    if (reaperInterval.isNegative() || reaperInterval.isZero()) {
      throw new IllegalArgumentException("reaperInterval must be positive: " + reaperInterval);
    }
  }

  /** No warm pool. */
  public LifecycleSettings(
      Path envdDist,
      int maxSandboxes,
      Duration healthTimeout,
      Duration reaperInterval,
      List<String> nameservers) {
    this(envdDist, maxSandboxes, healthTimeout, reaperInterval, nameservers, WarmPoolSettings.OFF);
  }

  /**
   * The name server of every sandbox unless configured otherwise: {@code 8.8.8.8}, the one E2B's
   * sandboxes have in {@code /etc/resolv.conf}. It answers only where the sandbox's egress policy
   * lets it out (internet access, or 8.8.8.8 allowed) and the host forwards the bridge's packets.
   */
  public static final List<String> DEFAULT_NAMESERVERS = List.of("8.8.8.8");

  /**
   * 100 sandboxes, envd healthy within 30 s, end times checked (and warm pools topped up) every
   * second, {@link #DEFAULT_NAMESERVERS}, no warm pool.
   */
  public static LifecycleSettings of(Path envdDist) {
    return new LifecycleSettings(
        envdDist, 100, Duration.ofSeconds(30), Duration.ofSeconds(1), DEFAULT_NAMESERVERS);
  }

  public LifecycleSettings withNameservers(List<String> nameservers) {
    return new LifecycleSettings(
        envdDist, maxSandboxes, healthTimeout, reaperInterval, nameservers, warmPool);
  }

  public LifecycleSettings withWarmPool(WarmPoolSettings warmPool) {
    return new LifecycleSettings(
        envdDist, maxSandboxes, healthTimeout, reaperInterval, nameservers, warmPool);
  }

  public LifecycleSettings withMaxSandboxes(int maxSandboxes) {
    return new LifecycleSettings(
        envdDist, maxSandboxes, healthTimeout, reaperInterval, nameservers, warmPool);
  }

  public LifecycleSettings withHealthTimeout(Duration healthTimeout) {
    return new LifecycleSettings(
        envdDist, maxSandboxes, healthTimeout, reaperInterval, nameservers, warmPool);
  }

  public LifecycleSettings withReaperInterval(Duration reaperInterval) {
    return new LifecycleSettings(
        envdDist, maxSandboxes, healthTimeout, reaperInterval, nameservers, warmPool);
  }
}
