package dev.sbx.sdk;

import org.jspecify.annotations.Nullable;

/**
 * The API or envd asked the client to slow down (HTTP 429, envd {@code resource_exhausted}); for
 * the API this is thrown once the retries on {@code Retry-After} are used up. E2B: {@code
 * RateLimitError}.
 */
public class RateLimitException extends SandboxException {
  private static final long serialVersionUID = 1L;

  public RateLimitException(String message) {
    super(message);
  }

  public RateLimitException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
