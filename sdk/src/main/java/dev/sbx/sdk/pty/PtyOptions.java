package dev.sbx.sdk.pty;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Options of {@link Pty#create}.
 *
 * @param size the terminal size
 * @param onData called with each chunk of terminal output (raw bytes), on the SDK's reader thread
 * @param envs environment variables; {@code TERM=xterm-256color}, {@code LANG=C.UTF-8} and {@code
 *     LC_ALL=C.UTF-8} are set unless given here
 * @param cwd the working directory; {@code null} for the user's home
 * @param user the user; {@code null} for the sandbox's default user
 * @param timeout how long the terminal may live; 60 s by default, {@link Duration#ZERO} for no
 *     limit
 */
public record PtyOptions(
    PtySize size,
    @Nullable Consumer<byte[]> onData,
    Map<String, String> envs,
    @Nullable String cwd,
    @Nullable String user,
    Duration timeout) {
  public PtyOptions {
    requireNonNull(size, "size");
    envs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(envs));
    requireNonNull(timeout, "timeout");
    if (timeout.isNegative()) {
      throw new dev.sbx.sdk.InvalidArgumentException("timeout must not be negative");
    }
  }

  /** Options for a terminal of {@code cols} x {@code rows}. */
  public static Builder builder(int cols, int rows) {
    return new Builder(new PtySize(cols, rows));
  }

  /** Builds {@link PtyOptions}. */
  public static final class Builder {
    private final PtySize size;
    private @Nullable Consumer<byte[]> onData;
    private final Map<String, String> envs = new LinkedHashMap<>();
    private @Nullable String cwd;
    private @Nullable String user;
    private Duration timeout = Duration.ofSeconds(60);

    private Builder(PtySize size) {
      this.size = size;
    }

    public Builder onData(Consumer<byte[]> onData) {
      this.onData = requireNonNull(onData, "onData");
      return this;
    }

    public Builder env(String name, String value) {
      envs.put(requireNonNull(name, "name"), requireNonNull(value, "value"));
      return this;
    }

    public Builder cwd(String cwd) {
      this.cwd = requireNonNull(cwd, "cwd");
      return this;
    }

    public Builder user(String user) {
      this.user = requireNonNull(user, "user");
      return this;
    }

    public Builder timeout(Duration timeout) {
      this.timeout = requireNonNull(timeout, "timeout");
      return this;
    }

    public PtyOptions build() {
      return new PtyOptions(size, onData, envs, cwd, user, timeout);
    }
  }
}
