package dev.sbx.orchestrator.network;

/** The host's network could not be set up, changed or cleaned as asked; the message says why. */
public final class NetworkException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public NetworkException(String message) {
    super(message);
  }

  public NetworkException(String message, Throwable cause) {
    super(message, cause);
  }
}
