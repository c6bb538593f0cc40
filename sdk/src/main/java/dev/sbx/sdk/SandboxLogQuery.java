package dev.sbx.sdk;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What {@link Sandbox#getLogs} asks for: the query of {@code GET /v2/sandboxes/{id}/logs}.
 *
 * @param cursor where to start (inclusive, millisecond precision on the wire); {@code null} for the
 *     first entry (forward) or now (backward)
 * @param limit at most this many entries (the API allows 0 to 1000; its default is 1000)
 * @param backward newest first instead of oldest first
 * @param level the lowest level: {@code debug}, {@code info}, {@code warn} or {@code error}
 * @param search only entries whose message contains this text (at most 256 characters)
 */
public record SandboxLogQuery(
    @Nullable Instant cursor,
    @Nullable Integer limit,
    boolean backward,
    @Nullable String level,
    @Nullable String search) {
  private static final List<String> LEVELS = List.of("debug", "info", "warn", "error");

  public SandboxLogQuery {
    if (limit != null && (limit < 0 || limit > 1000)) {
      throw new InvalidArgumentException("limit must be between 0 and 1000, not " + limit);
    }
    if (level != null && !LEVELS.contains(level)) {
      throw new InvalidArgumentException(
          "level must be one of " + String.join(", ", LEVELS) + ", not '" + level + "'");
    }
    if (search != null && search.length() > 256) {
      throw new InvalidArgumentException("search must be at most 256 characters");
    }
  }

  /** Every entry, oldest first (up to the API's limit of 1000). */
  public static SandboxLogQuery all() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link SandboxLogQuery}. */
  public static final class Builder {
    private @Nullable Instant cursor;
    private @Nullable Integer limit;
    private boolean backward;
    private @Nullable String level;
    private @Nullable String search;

    private Builder() {}

    public Builder cursor(Instant cursor) {
      this.cursor = requireNonNull(cursor, "cursor");
      return this;
    }

    public Builder limit(int limit) {
      this.limit = limit;
      return this;
    }

    public Builder backward(boolean backward) {
      this.backward = backward;
      return this;
    }

    public Builder level(String level) {
      this.level = requireNonNull(level, "level");
      return this;
    }

    public Builder search(String search) {
      this.search = requireNonNull(search, "search");
      return this;
    }

    public SandboxLogQuery build() {
      return new SandboxLogQuery(cursor, limit, backward, level, search);
    }
  }
}
