package dev.sbx.orchestrator.template;

/** The node has no template of this id. */
public final class UnknownTemplateException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public UnknownTemplateException(String templateId) {
    super("unknown template: " + templateId);
  }
}
