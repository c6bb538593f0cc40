package dev.sbx.envd.http;

/**
 * A request failed with an HTTP status; {@link EnvdRouter} answers it as envd's JSON error {@code
 * {"code":status,"message":message}}.
 */
public final class HttpStatusException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;

  public HttpStatusException(int status, String message) {
    super(message);
    this.status = status;
  }

  public HttpStatusException(int status, String message, Throwable cause) {
    super(message, cause);
    this.status = status;
  }

  public int status() {
    return status;
  }

  @Override
  public String getMessage() {
    String message = super.getMessage();
    return message == null ? "" : message;
  }
}
