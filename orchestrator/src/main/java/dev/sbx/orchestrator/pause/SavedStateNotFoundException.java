package dev.sbx.orchestrator.pause;

/** Nothing paused under that sandbox id, or no snapshot of that id: NOT_FOUND. */
public final class SavedStateNotFoundException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public SavedStateNotFoundException(String message) {
    super(message);
  }
}
