package dev.sbx.orchestrator.pause;

/** The sandbox is paused (or being paused or resumed): FAILED_PRECONDITION. */
public final class AlreadyPausedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public AlreadyPausedException(String message) {
    super(message);
  }
}
