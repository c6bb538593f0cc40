package dev.sbx.api.store;

import java.time.Instant;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One sandbox as the API records it. Timestamps are kept to the microsecond.
 *
 * @param alias the template name the sandbox was created with, if it was not the template id
 * @param networkJson the {@code network} object of the create request as given (JSON), or null
 * @param endReason why it was killed ({@code killed}, {@code timeout}, {@code node lost}, …)
 * @param autoPause whether the evictor pauses it at its end time instead of killing it
 * @param autoPauseMemory whether that pause keeps memory ({@code autoPauseMemory})
 * @param timeoutSeconds the timeout it was created with (an auto-resume uses it)
 * @param pausedAt when it was last paused (null when it never was)
 * @param memoryKept whether its last pause kept memory and processes (null when never paused)
 */
public record SandboxRecord(
    String id,
    String teamId,
    String templateId,
    @Nullable String alias,
    String nodeId,
    SandboxState state,
    Instant startedAt,
    Instant endAt,
    @Nullable Instant killedAt,
    @Nullable String endReason,
    int cpuCount,
    int memoryMb,
    int diskSizeMb,
    String envdVersion,
    Map<String, String> metadata,
    @Nullable String envdAccessToken,
    @Nullable String trafficAccessToken,
    @Nullable Boolean allowInternetAccess,
    @Nullable String networkJson,
    boolean autoPause,
    boolean autoResume,
    boolean autoPauseMemory,
    int timeoutSeconds,
    @Nullable Instant pausedAt,
    @Nullable Boolean memoryKept) {

  public SandboxRecord {
    metadata = Map.copyOf(metadata);
  }

  /** Whether E2B shows it as {@code paused} (pausing, paused or resuming). */
  public boolean shownPaused() {
    return SandboxState.SHOWN_PAUSED.contains(state);
  }

  public SandboxRecord withEndAt(Instant newEndAt) {
    return new SandboxRecord(
        id,
        teamId,
        templateId,
        alias,
        nodeId,
        state,
        startedAt,
        newEndAt,
        killedAt,
        endReason,
        cpuCount,
        memoryMb,
        diskSizeMb,
        envdVersion,
        metadata,
        envdAccessToken,
        trafficAccessToken,
        allowInternetAccess,
        networkJson,
        autoPause,
        autoResume,
        autoPauseMemory,
        timeoutSeconds,
        pausedAt,
        memoryKept);
  }
}
