package dev.sbx.api.store;

import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A template sandboxes are created from.
 *
 * @param id 20 lowercase letters and digits, or the id a node registers ({@code base})
 * @param teamId the owning team, or {@code null} for a template every team may use
 * @param aliases names that resolve to this template; unique over all templates
 * @param envdVersion the version of envd sandboxes of this template run
 */
public record TemplateRecord(
    String id,
    @Nullable String teamId,
    boolean isPublic,
    List<String> aliases,
    int cpuCount,
    int memoryMb,
    int diskSizeMb,
    String envdVersion,
    Instant createdAt,
    Instant updatedAt,
    @Nullable Instant lastSpawnedAt,
    long spawnCount) {

  public TemplateRecord {
    aliases = List.copyOf(aliases);
  }

  /** Whether a team may start sandboxes from this template. */
  public boolean usableBy(String team) {
    return isPublic || team.equals(teamId);
  }
}
