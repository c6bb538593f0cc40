package dev.sbx.connect;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Per-call settings of {@link ConnectClient}.
 *
 * @param headers extra request headers (e.g. {@code Authorization}, {@code X-Access-Token}, {@code
 *     Keepalive-Ping-Interval}); they replace client defaults of the same name
 * @param timeout the call's deadline, sent as {@code Connect-Timeout-Ms}; {@code null} for the
 *     client's default, {@link Duration#ZERO} for none
 */
public record CallOptions(Map<String, List<String>> headers, @Nullable Duration timeout) {
  private static final CallOptions NONE = new CallOptions(Map.of(), null);

  public CallOptions {
    requireNonNull(headers, "headers");
    Map<String, List<String>> copy = new LinkedHashMap<>();
    headers.forEach((name, values) -> copy.put(name, List.copyOf(values)));
    headers = java.util.Collections.unmodifiableMap(copy);
    if (timeout != null && timeout.isNegative()) {
      throw new IllegalArgumentException("negative timeout " + timeout);
    }
  }

  /** No extra headers, the client's default timeout. */
  public static CallOptions none() {
    return NONE;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Builds {@link CallOptions}. */
  public static final class Builder {
    private final Map<String, List<String>> headers = new LinkedHashMap<>();
    private @Nullable Duration timeout;

    private Builder() {}

    /** Adds a header value. */
    public Builder header(String name, String value) {
      requireNonNull(name, "name");
      requireNonNull(value, "value");
      headers.computeIfAbsent(name, n -> new ArrayList<>()).add(value);
      return this;
    }

    /** The call's deadline; {@link Duration#ZERO} for none. */
    public Builder timeout(Duration timeout) {
      this.timeout = requireNonNull(timeout, "timeout");
      return this;
    }

    public CallOptions build() {
      return new CallOptions(headers, timeout);
    }
  }
}
