package dev.sbx.sdk.files;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Options of {@link Filesystem#watchDir}.
 *
 * @param recursive also watch subdirectories (envd 0.1.4)
 * @param includeEntry attach the entry to create, write and chmod events (envd 0.6.3)
 * @param user the user whose home relative paths resolve against
 * @param timeout how long the watch lasts; 60 s by default, {@link Duration#ZERO} for no limit
 * @param onExit called once when the watch ends by itself: with {@code null} when envd ended it,
 *     with the exception when it failed or timed out; not called after {@link WatchHandle#stop()}
 */
public record WatchOptions(
    boolean recursive,
    boolean includeEntry,
    @Nullable String user,
    Duration timeout,
    @Nullable Consumer<@Nullable Throwable> onExit) {
  public WatchOptions {
    requireNonNull(timeout, "timeout");
    if (timeout.isNegative()) {
      throw new dev.sbx.sdk.InvalidArgumentException("timeout must not be negative");
    }
  }

  public static WatchOptions defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Builds {@link WatchOptions}. */
  public static final class Builder {
    private boolean recursive;
    private boolean includeEntry;
    private @Nullable String user;
    private Duration timeout = Duration.ofSeconds(60);
    private @Nullable Consumer<@Nullable Throwable> onExit;

    private Builder() {}

    public Builder recursive(boolean recursive) {
      this.recursive = recursive;
      return this;
    }

    public Builder includeEntry(boolean includeEntry) {
      this.includeEntry = includeEntry;
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

    public Builder onExit(Consumer<@Nullable Throwable> onExit) {
      this.onExit = requireNonNull(onExit, "onExit");
      return this;
    }

    public WatchOptions build() {
      return new WatchOptions(recursive, includeEntry, user, timeout, onExit);
    }
  }
}
