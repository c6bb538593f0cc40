package dev.sbx.sdk;

import org.jspecify.annotations.Nullable;

/**
 * The API key is missing or rejected (HTTP 401), or envd refused the access token or user (envd
 * {@code unauthenticated} / HTTP 401). E2B: {@code AuthenticationError}.
 */
public class AuthenticationException extends SandboxException {
  private static final long serialVersionUID = 1L;

  public AuthenticationException(String message) {
    super(message);
  }

  public AuthenticationException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
