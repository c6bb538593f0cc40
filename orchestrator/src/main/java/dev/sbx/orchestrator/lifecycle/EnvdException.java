package dev.sbx.orchestrator.lifecycle;

/** envd in a sandbox did not become healthy in time, or refused {@code /init}. */
public final class EnvdException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public EnvdException(String message) {
    super(message);
  }

  public EnvdException(String message, Throwable cause) {
    super(message, cause);
  }
}
