package dev.sbx.sdk;

import org.jspecify.annotations.Nullable;

/**
 * The base of every exception the SDK throws (E2B: {@code SandboxError}). Unchecked. Errors the
 * server reported that have no more specific type carry the HTTP status or Connect code in their
 * message, e.g. {@code "500: internal error"}.
 */
public class SandboxException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public SandboxException(String message) {
    super(message);
  }

  public SandboxException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
