package dev.sbx.api.http;

import org.jspecify.annotations.Nullable;

/**
 * A request that ends in E2B's error body {@code {"code", "message"[, "error_code"]}} with the HTTP
 * status {@code code}.
 */
public final class ApiException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final @Nullable String errorCode;
  private final @Nullable Integer retryAfterSeconds;

  public ApiException(int status, String message) {
    this(status, message, null, null);
  }

  public ApiException(
      int status, String message, @Nullable String errorCode, @Nullable Integer retryAfterSeconds) {
    super(message, null, false, false);
    this.status = status;
    this.errorCode = errorCode;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public static ApiException badRequest(String message) {
    return new ApiException(400, message);
  }

  /** kin-openapi's shape: {@code validation error: <detail>}. */
  public static ApiException validation(String detail) {
    return new ApiException(400, "validation error: " + detail);
  }

  public static ApiException notFound(String message) {
    return new ApiException(404, message);
  }

  /** The message of the error body (never null). */
  public String message() {
    String message = getMessage();
    return message == null ? "" : message;
  }

  public int status() {
    return status;
  }

  public @Nullable String errorCode() {
    return errorCode;
  }

  public @Nullable Integer retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
