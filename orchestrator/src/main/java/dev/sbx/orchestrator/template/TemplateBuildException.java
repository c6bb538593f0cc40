package dev.sbx.orchestrator.template;

/** Building a template failed; the message says where (for mmdebstrap: its last lines). */
public final class TemplateBuildException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public TemplateBuildException(String message) {
    super(message);
  }
}
