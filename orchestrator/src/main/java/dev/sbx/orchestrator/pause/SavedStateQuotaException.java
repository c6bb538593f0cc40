package dev.sbx.orchestrator.pause;

/** Saving would exceed the node's quota or its disk's free space: RESOURCE_EXHAUSTED. */
public final class SavedStateQuotaException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public SavedStateQuotaException(String message) {
    super(message);
  }
}
