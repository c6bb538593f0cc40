package dev.sbx.orchestrator.template;

/**
 * A template directory exists but is not usable: its {@code template.json} or {@code rootfs/} is
 * missing, or its settings are malformed. A fault of the node, not of the request that named it.
 */
public final class InvalidTemplateException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public InvalidTemplateException(String message) {
    super(message);
  }

  public InvalidTemplateException(String message, Throwable cause) {
    super(message, cause);
  }
}
