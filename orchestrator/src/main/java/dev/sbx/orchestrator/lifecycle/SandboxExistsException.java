package dev.sbx.orchestrator.lifecycle;

/** A sandbox of this id exists (or is being created) on the node. */
public final class SandboxExistsException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public SandboxExistsException(String sandboxId) {
    super("sandbox already exists: " + sandboxId);
  }
}
