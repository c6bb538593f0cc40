package dev.sbx.api.store;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * A persistent snapshot of a sandbox ({@code POST /sandboxes/{id}/snapshots}); {@code POST
 * /sandboxes} starts new sandboxes from it on {@code nodeId}, which holds its saved state under
 * {@code id}.
 *
 * @param id 20 lowercase letters and digits; also the node's snapshot id
 * @param name the team-unique name it was given, or null
 * @param sandboxId the sandbox it was taken from
 * @param templateId that sandbox's template
 */
public record SnapshotRecord(
    String id,
    String teamId,
    @Nullable String name,
    String sandboxId,
    String templateId,
    String nodeId,
    int cpuCount,
    int memoryMb,
    int diskSizeMb,
    String envdVersion,
    boolean memoryKept,
    long sizeBytes,
    Instant createdAt) {}
