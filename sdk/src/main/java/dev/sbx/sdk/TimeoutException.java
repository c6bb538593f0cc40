package dev.sbx.sdk;

import org.jspecify.annotations.Nullable;

/**
 * A time limit was hit: the request timeout, a command's or watch's {@code timeout} (envd {@code
 * deadline_exceeded}), or the sandbox itself is gone or timed out (envd {@code unavailable}, HTTP
 * 502). E2B: {@code TimeoutError}.
 */
public class TimeoutException extends SandboxException {
  private static final long serialVersionUID = 1L;

  public TimeoutException(String message) {
    super(message);
  }

  public TimeoutException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
