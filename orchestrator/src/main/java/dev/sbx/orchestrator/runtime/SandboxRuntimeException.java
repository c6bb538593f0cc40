package dev.sbx.orchestrator.runtime;

/** A runtime could not do what was asked; the message says what and why (the runtime's error). */
public final class SandboxRuntimeException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public SandboxRuntimeException(String message) {
    super(message);
  }

  public SandboxRuntimeException(String message, Throwable cause) {
    super(message, cause);
  }
}
