package dev.sbx.sdk;

import org.jspecify.annotations.Nullable;

/**
 * Something does not exist: a sandbox (API 404), a file or directory, or a process (envd {@code
 * not_found} / HTTP 404). E2B: {@code NotFoundError} (and its {@code SandboxNotFoundError}, {@code
 * FileNotFoundError}).
 */
public class NotFoundException extends SandboxException {
  private static final long serialVersionUID = 1L;

  public NotFoundException(String message) {
    super(message);
  }

  public NotFoundException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
