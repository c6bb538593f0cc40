package dev.sbx.sdk;

import org.jspecify.annotations.Nullable;

/**
 * The request was rejected as invalid (envd {@code invalid_argument} / HTTP 400), or the SDK
 * refused an argument before sending it. E2B: {@code InvalidArgumentError}.
 */
public class InvalidArgumentException extends SandboxException {
  private static final long serialVersionUID = 1L;

  public InvalidArgumentException(String message) {
    super(message);
  }

  public InvalidArgumentException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
