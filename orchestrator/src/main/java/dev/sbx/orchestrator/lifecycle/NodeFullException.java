package dev.sbx.orchestrator.lifecycle;

/** The node cannot take another sandbox: it runs its maximum, or no network address is free. */
public final class NodeFullException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public NodeFullException(String message) {
    super(message);
  }
}
