package dev.sbx.api.store;

import java.util.List;

/**
 * Where a sandbox is in its life, as the API records it. Transitions: STARTING → RUNNING; RUNNING →
 * PAUSING → PAUSED (or back to RUNNING when the pause failed); PAUSED → RESUMING → RUNNING (or back
 * to PAUSED); any of them → KILLED. Each transition is a compare-and-set in the store, which is
 * what serialises pauses and resumes of one sandbox, also across API servers.
 */
public enum SandboxState {
  /** Reserved against the team's concurrency limit; the node is creating it. */
  STARTING,
  /** Created on its node. */
  RUNNING,
  /** Its node is saving it (counts against the concurrency limit until saved). */
  PAUSING,
  /** Saved on its node's disk, not running (does not count against the concurrency limit). */
  PAUSED,
  /** Reserved against the concurrency limit again; its node is starting it from the saved state. */
  RESUMING,
  /** Killed (by a user, at its end time, because its node went away, or its start failed). */
  KILLED;

  /** The states that count against a team's concurrency limit. */
  public static final List<SandboxState> ACTIVE = List.of(STARTING, RUNNING, PAUSING, RESUMING);

  /** The states E2B shows as {@code paused}. */
  public static final List<SandboxState> SHOWN_PAUSED = List.of(PAUSING, PAUSED, RESUMING);
}
