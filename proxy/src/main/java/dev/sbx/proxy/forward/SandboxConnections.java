package dev.sbx.proxy.forward;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * How many exchanges (requests in progress, open WebSocket tunnels) each sandbox has through one
 * proxy, kept at most {@code limit} (E2B's per-sandbox connection limit of the orchestrator proxy,
 * wire protocol §3.1 step 3); {@link ForwardingSettings#UNLIMITED} keeps no count. Thread-safe: a
 * sandbox's count changes atomically and its entry goes when it drops to zero.
 */
final class SandboxConnections {
  private final int limit;
  private final ConcurrentMap<String, Integer> open = new ConcurrentHashMap<>();

  SandboxConnections(int limit) {
    this.limit = limit;
  }

  int limit() {
    return limit;
  }

  /** Counts one more exchange of {@code sandboxId}, unless it has {@code limit} already. */
  boolean tryAcquire(String sandboxId) {
    if (limit == ForwardingSettings.UNLIMITED) {
      return true;
    }
    boolean[] acquired = {false};
    open.compute(
        sandboxId,
        (id, count) -> {
          int now = count == null ? 0 : count;
          if (now >= limit) {
            return count;
          }
          acquired[0] = true;
          return now + 1;
        });
    return acquired[0];
  }

  /** Ends one exchange that {@link #tryAcquire} counted. */
  void release(String sandboxId) {
    if (limit != ForwardingSettings.UNLIMITED) {
      open.computeIfPresent(sandboxId, (id, count) -> count <= 1 ? null : count - 1);
    }
  }

  /** The exchanges of {@code sandboxId} now. */
  int open(String sandboxId) {
    return open.getOrDefault(sandboxId, 0);
  }
}
