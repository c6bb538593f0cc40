package dev.sbx.sdk;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Map;

/**
 * One line of a sandbox's log as {@code GET /v2/sandboxes/{id}/logs} returns it ({@code
 * SandboxLogEntry}).
 *
 * @param timestamp when it happened
 * @param level {@code debug}, {@code info}, {@code warn} or {@code error}
 * @param message the text
 * @param fields structured fields (string values)
 */
public record SandboxLogEntry(
    Instant timestamp, String level, String message, Map<String, String> fields) {
  public SandboxLogEntry {
    requireNonNull(timestamp, "timestamp");
    requireNonNull(level, "level");
    requireNonNull(message, "message");
    fields = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(fields));
  }
}
