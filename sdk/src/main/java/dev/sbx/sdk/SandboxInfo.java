package dev.sbx.sdk;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A sandbox as {@code GET /sandboxes/{id}} and {@code GET /v2/sandboxes} describe it.
 *
 * @param sandboxId the sandbox's ID
 * @param templateId the ID of its template
 * @param name the template's alias, if it has one
 * @param metadata the metadata given at creation
 * @param startedAt when it started
 * @param endAt when it will be killed (or paused); for a paused sandbox, when it was paused
 * @param state running or paused
 * @param cpuCount vCPUs
 * @param memoryMb memory in MiB
 * @param diskSizeMb disk size in MiB
 * @param envdVersion the version of its envd
 */
public record SandboxInfo(
    String sandboxId,
    String templateId,
    @Nullable String name,
    Map<String, String> metadata,
    Instant startedAt,
    Instant endAt,
    SandboxState state,
    int cpuCount,
    int memoryMb,
    int diskSizeMb,
    String envdVersion) {
  public SandboxInfo {
    requireNonNull(sandboxId, "sandboxId");
    requireNonNull(templateId, "templateId");
    metadata = Map.copyOf(metadata);
    requireNonNull(startedAt, "startedAt");
    requireNonNull(endAt, "endAt");
    requireNonNull(state, "state");
    requireNonNull(envdVersion, "envdVersion");
  }
}
