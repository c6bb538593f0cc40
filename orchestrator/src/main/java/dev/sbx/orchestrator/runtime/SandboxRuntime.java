package dev.sbx.orchestrator.runtime;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

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
   * Runs a command in the sandbox as root and waits for it (diagnostics and tests: user commands go
   * through envd). The command is killed when the timeout passes.
   */
  ExecResult exec(String sandboxId, List<String> command, Duration timeout);

  /**
   * Kills every process of the sandbox and removes its container, mounts, cgroups, upper layer and
   * files. Idempotent: removing an unknown or half-made sandbox removes what is left and succeeds.
   */
  void remove(String sandboxId);
}
