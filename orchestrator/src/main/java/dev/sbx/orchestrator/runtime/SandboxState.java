package dev.sbx.orchestrator.runtime;

/** What a runtime reports about one of its sandboxes. */
public enum SandboxState {
  /** The container exists but its init process has not been started. */
  CREATED,
  /** Its init process runs. */
  RUNNING,
  /** Frozen (cgroup freezer). */
  PAUSED,
  /** Its init process has exited; the container still exists. */
  STOPPED,
  /** Files or mounts remain but no container: half-made or half-removed, to be removed. */
  ORPHANED
}
