package dev.sbx.api.store;

/** Where a sandbox is in its life, as the API records it. */
public enum SandboxState {
  /** Reserved against the team's concurrency limit; the node is creating it. */
  STARTING,
  /** Created on its node. */
  RUNNING,
  /** Killed (by a user, at its end time, because its node went away, or its start failed). */
  KILLED
}
