package dev.sbx.orchestrator.runtime;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * An OCI runtime that runs sandboxes: each one a container with its own rootfs (the template below,
 * its own upper layer), envd at {@code /opt/sbx} started under {@code tini}, its own namespaces and
 * cgroup limits. Implementations are safe for concurrent use on different sandbox ids. Every method
 * fails with {@link SandboxRuntimeException} when the runtime itself fails.
 */
public interface SandboxRuntime {

  /** The runtime's name, e.g. {@code runc}. */
  String name();

  /**
   * Creates and starts a sandbox; returns once its init process (tini, with envd under it) runs.
   * envd may not answer yet: callers poll its {@code /health}. If creation fails, everything made
   * for it is removed before the exception is thrown.
   *
   * @throws SandboxRuntimeException if the sandbox id is in use or the runtime fails
   */
  RuntimeSandbox create(SandboxSpec spec);

  /** The sandbox's state, or empty if this runtime has nothing of it (no container, no files). */
  Optional<RuntimeSandbox> find(String sandboxId);

  /** Every sandbox this runtime owns, including {@link SandboxState#ORPHANED} leftovers. */
  List<RuntimeSandbox> list();

  /** Changes the CPU, memory and pids limits of a running sandbox. */
  void updateLimits(String sandboxId, ResourceLimits limits);

  /**
   * Gives a sandbox created {@linkplain SandboxSpec#background in the background} the normal CPU
   * weight (a cgroup file: no process is started); nothing changes for one that has it already.
   */
  void foreground(String sandboxId);

  /**
   * Runs a command in the sandbox as root and waits for it (diagnostics and tests: user commands go
   * through envd). The command is killed when the timeout passes.
   */
  ExecResult exec(String sandboxId, List<String> command, Duration timeout);

  /**
   * Kills every process of the sandbox and removes its container, mounts, cgroups, upper layer and
   * files. Idempotent: removing an unknown or half-made sandbox removes what is left and succeeds.
   */
  void remove(String sandboxId);

  // ---- pause, resume, snapshots: checkpoint and restore ----

  /**
   * Whether {@link #checkpoint} can save memory and processes on this host (runsc always; runc only
   * with CRIU 4.2 or newer). When not, a pause keeps the files only.
   */
  boolean canCheckpoint();

  /**
   * Saves the memory, processes and kernel state of the running sandbox into {@code imageDir}
   * (created; must not exist), killed after {@code timeout}. With {@code leaveRunning} the sandbox
   * continues afterwards, else its processes are gone and {@link #removeKeepingUpper} removes the
   * rest. On failure the sandbox keeps running where the runtime can resume it.
   *
   * @throws UnsupportedOperationException if {@link #canCheckpoint()} is false
   * @throws SandboxRuntimeException if the checkpoint failed or timed out
   */
  void checkpoint(String sandboxId, Path imageDir, boolean leaveRunning, Duration timeout);

  /**
   * Stops every process of the running sandbox where it is (cgroup freezer) until {@link #thaw}, so
   * that its files and memory can be saved as one consistent state; a checkpoint of a frozen
   * sandbox leaves it frozen.
   *
   * @throws UnsupportedOperationException if {@link #canFreeze()} is false
   * @throws SandboxRuntimeException if freezing failed
   */
  default void freeze(String sandboxId) {
    throw new UnsupportedOperationException(name() + " cannot freeze a sandbox");
  }

  /** Whether {@link #freeze} can freeze this runtime's sandboxes. */
  default boolean canFreeze() {
    return false;
  }

  /**
   * Lets a sandbox that {@link #freeze} stopped run on; failures are logged, not thrown.
   *
   * @return whether it runs now
   */
  default boolean thaw(String sandboxId) {
    return false;
  }

  /**
   * As {@link #remove}, but first moves the sandbox's overlay upper directory (its rootfs changes)
   * to {@code upperTarget} (must not exist; on the same filesystem as the sandbox's directory).
   */
  void removeKeepingUpper(String sandboxId, Path upperTarget);

  /**
   * Creates and starts a sandbox on saved files: its overlay upper directory is {@code upper}
   * (moved in when {@code consume}, else copied with {@code cp -a}, xattrs and whiteouts kept);
   * when {@code image} is given its processes are restored from that checkpoint, else it boots as
   * {@link #create} does. If it fails, a consumed upper directory is moved back to {@code upper}
   * and everything else made for it is removed.
   */
  RuntimeSandbox restore(SandboxSpec spec, Path upper, boolean consume, @Nullable Path image);
}
