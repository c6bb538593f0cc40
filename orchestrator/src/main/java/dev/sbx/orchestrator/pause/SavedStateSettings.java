package dev.sbx.orchestrator.pause;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Where and how much saved state (paused sandboxes, snapshots) a node keeps.
 *
 * @param dir the directory of saved state; null: {@code saved-state} next to the runtime's
 *     sandboxes directory. It must be on the same filesystem as the sandboxes directory (a pause
 *     moves the overlay's upper directory there with a rename)
 * @param quotaBytes the most bytes of saved state (0: no limit besides the disk's free space); a
 *     pause or snapshot that would exceed it is refused and the sandbox keeps running
 * @param checkpointTimeout how long one checkpoint may take before it is killed
 * @param frozenLimit how many paused sandboxes (with memory, runc) may also wait frozen in memory
 *     for a resume by thawing, besides their saved state on disk; 0: none
 * @param frozenFor how long a paused sandbox waits frozen before only its saved state is left
 */
public record SavedStateSettings(
    @Nullable Path dir,
    long quotaBytes,
    Duration checkpointTimeout,
    int frozenLimit,
    Duration frozenFor) {
  /**
   * Next to the sandboxes, no quota, checkpoints killed after 2 minutes, up to 8 paused sandboxes
   * frozen in memory for 5 minutes.
   */
  public static final SavedStateSettings DEFAULT =
      new SavedStateSettings(null, 0, Duration.ofMinutes(2), 8, Duration.ofMinutes(5));

  public SavedStateSettings {
    requireNonNull(checkpointTimeout, "checkpointTimeout");
    requireNonNull(frozenFor, "frozenFor");
    if (quotaBytes < 0) {
      throw new IllegalArgumentException("quotaBytes must not be negative: " + quotaBytes);
    }
    if (checkpointTimeout.isNegative() || checkpointTimeout.isZero()) {
      throw new IllegalArgumentException("checkpointTimeout must be positive");
    }
    if (frozenLimit < 0 || frozenFor.isNegative()) {
      throw new IllegalArgumentException(
          "frozenLimit and frozenFor must not be negative: " + frozenLimit + ", " + frozenFor);
    }
    dir = dir == null ? null : dir.toAbsolutePath().normalize();
  }

  public SavedStateSettings withDir(Path dir) {
    return new SavedStateSettings(
        requireNonNull(dir, "dir"), quotaBytes, checkpointTimeout, frozenLimit, frozenFor);
  }

  public SavedStateSettings withQuotaBytes(long quotaBytes) {
    return new SavedStateSettings(dir, quotaBytes, checkpointTimeout, frozenLimit, frozenFor);
  }

  /** With {@code limit} paused sandboxes kept frozen for up to {@code maxAge} (0: none). */
  public SavedStateSettings withFrozen(int limit, Duration maxAge) {
    return new SavedStateSettings(dir, quotaBytes, checkpointTimeout, limit, maxAge);
  }
}
