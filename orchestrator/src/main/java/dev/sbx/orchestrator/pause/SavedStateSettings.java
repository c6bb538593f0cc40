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
 */
public record SavedStateSettings(@Nullable Path dir, long quotaBytes, Duration checkpointTimeout) {
  /** Next to the sandboxes, no quota, checkpoints killed after 2 minutes. */
  public static final SavedStateSettings DEFAULT =
      new SavedStateSettings(null, 0, Duration.ofMinutes(2));

  public SavedStateSettings {
    requireNonNull(checkpointTimeout, "checkpointTimeout");
    if (quotaBytes < 0) {
      throw new IllegalArgumentException("quotaBytes must not be negative: " + quotaBytes);
    }
    if (checkpointTimeout.isNegative() || checkpointTimeout.isZero()) {
      throw new IllegalArgumentException("checkpointTimeout must be positive");
    }
    dir = dir == null ? null : dir.toAbsolutePath().normalize();
  }

  public SavedStateSettings withDir(Path dir) {
    return new SavedStateSettings(requireNonNull(dir, "dir"), quotaBytes, checkpointTimeout);
  }

  public SavedStateSettings withQuotaBytes(long quotaBytes) {
    return new SavedStateSettings(dir, quotaBytes, checkpointTimeout);
  }
}
