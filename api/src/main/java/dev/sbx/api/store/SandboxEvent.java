package dev.sbx.api.store;

import java.time.Instant;
import java.util.Map;

/**
 * A line of a sandbox's lifecycle log ({@code /logs}).
 *
 * @param level {@code debug}, {@code info}, {@code warn} or {@code error}
 */
public record SandboxEvent(
    String sandboxId, Instant at, String level, String message, Map<String, String> fields) {

  public SandboxEvent {
    fields = Map.copyOf(fields);
  }
}
