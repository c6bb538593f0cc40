package dev.sbx.orchestrator.lifecycle;

/** The node has no sandbox of this id. */
public final class SandboxNotFoundException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public SandboxNotFoundException(String sandboxId) {
    super("sandbox not found: " + sandboxId);
  }
}
