package dev.sbx.sdk;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The filters and page size of {@link Sandbox#list(SandboxQuery)}.
 *
 * @param metadata only sandboxes whose metadata has all these pairs
 * @param states only sandboxes in one of these states; empty for all (the server's default)
 * @param limit the page size, 1..100; {@code null} for the server's default (100)
 * @param nextToken the page to start at, from {@link SandboxPaginator#nextToken()}
 */
public record SandboxQuery(
    Map<String, String> metadata,
    List<SandboxState> states,
    @Nullable Integer limit,
    @Nullable String nextToken) {
  public SandboxQuery {
    metadata = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    states = List.copyOf(states);
    if (limit != null && (limit < 1 || limit > 100)) {
      throw new InvalidArgumentException("limit must be 1..100, not " + limit);
    }
  }

  /** No filters: every running and paused sandbox, pages of the server's default size. */
  public static SandboxQuery all() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link SandboxQuery}. */
  public static final class Builder {
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private List<SandboxState> states = List.of();
    private @Nullable Integer limit;
    private @Nullable String nextToken;

    private Builder() {}

    public Builder metadata(String key, String value) {
      metadata.put(requireNonNull(key, "key"), requireNonNull(value, "value"));
      return this;
    }

    public Builder metadata(Map<String, String> metadata) {
      metadata.forEach(this::metadata);
      return this;
    }

    public Builder states(SandboxState... states) {
      this.states = List.of(states);
      return this;
    }

    public Builder limit(int limit) {
      this.limit = limit;
      return this;
    }

    public Builder nextToken(String nextToken) {
      this.nextToken = requireNonNull(nextToken, "nextToken");
      return this;
    }

    public SandboxQuery build() {
      return new SandboxQuery(metadata, states, limit, nextToken);
    }
  }
}
