package dev.sbx.orchestrator.pause;

/** A snapshot of that id exists: ALREADY_EXISTS. */
public final class SnapshotExistsException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public SnapshotExistsException(String snapshotId) {
    super("snapshot " + snapshotId + " already exists");
  }
}
