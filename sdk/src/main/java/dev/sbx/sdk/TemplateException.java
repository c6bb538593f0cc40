package dev.sbx.sdk;

import org.jspecify.annotations.Nullable;

/**
 * The sandbox's template cannot be used by this SDK, e.g. its envd is older than 0.1.0 (the sandbox
 * is killed). E2B: {@code TemplateError}.
 */
public class TemplateException extends SandboxException {
  private static final long serialVersionUID = 1L;

  public TemplateException(String message) {
    super(message);
  }

  public TemplateException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
