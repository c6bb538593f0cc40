package dev.sbx.sdk;

import org.jspecify.annotations.Nullable;

/** The sandbox's disk (or its inodes) is full (envd HTTP 507). E2B: {@code NotEnoughSpaceError}. */
public class NotEnoughSpaceException extends SandboxException {
  private static final long serialVersionUID = 1L;

  public NotEnoughSpaceException(String message) {
    super(message);
  }

  public NotEnoughSpaceException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
