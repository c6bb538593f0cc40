package dev.sbx.orchestrator.runtime;

import static java.util.Objects.requireNonNull;

/**
 * A sandbox as its runtime sees it.
 *
 * @param sandboxId the sandbox id (without the runtime's container name prefix)
 * @param state its state
 * @param pid the host pid of its init process, or 0 if none runs
 */
public record RuntimeSandbox(String sandboxId, SandboxState state, int pid) {
  public RuntimeSandbox {
    requireNonNull(sandboxId, "sandboxId");
    requireNonNull(state, "state");
  }
}
