package dev.sbx.sdk.commands;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Options of {@link Commands#run}, {@link Commands#start} and {@link Commands#connect}.
 *
 * @param envs environment variables added to the sandbox's defaults
 * @param cwd the working directory; {@code null} for the user's home (or the template's workdir)
 * @param user the user to run as; {@code null} for the sandbox's default user
 * @param timeout how long the command may run before envd kills it (and the SDK throws {@link
 *     dev.sbx.sdk.TimeoutException}); 60 s by default, {@link Duration#ZERO} for no limit
 * @param stdin whether stdin stays open for {@link CommandHandle#sendStdin}; false by default
 * @param onStdout called with each chunk of stdout, decoded as UTF-8, on the SDK's reader thread
 * @param onStderr called with each chunk of stderr, decoded as UTF-8, on the SDK's reader thread
 */
public record CommandOptions(
    Map<String, String> envs,
    @Nullable String cwd,
    @Nullable String user,
    Duration timeout,
    boolean stdin,
    @Nullable Consumer<String> onStdout,
    @Nullable Consumer<String> onStderr) {
  /** The default command timeout (E2B: 60 s). */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

  public CommandOptions {
    envs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(envs));
    requireNonNull(timeout, "timeout");
    if (timeout.isNegative()) {
      throw new dev.sbx.sdk.InvalidArgumentException("timeout must not be negative");
    }
  }

  /** All defaults. */
  public static CommandOptions defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Builds {@link CommandOptions}. */
  public static final class Builder {
    private final Map<String, String> envs = new LinkedHashMap<>();
    private @Nullable String cwd;
    private @Nullable String user;
    private Duration timeout = DEFAULT_TIMEOUT;
    private boolean stdin;
    private @Nullable Consumer<String> onStdout;
    private @Nullable Consumer<String> onStderr;

    private Builder() {}

    public Builder env(String name, String value) {
      envs.put(requireNonNull(name, "name"), requireNonNull(value, "value"));
      return this;
    }

    public Builder envs(Map<String, String> envs) {
      envs.forEach(this::env);
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

    public Builder stdin(boolean stdin) {
      this.stdin = stdin;
      return this;
    }

    public Builder onStdout(Consumer<String> onStdout) {
      this.onStdout = requireNonNull(onStdout, "onStdout");
      return this;
    }

    public Builder onStderr(Consumer<String> onStderr) {
      this.onStderr = requireNonNull(onStderr, "onStderr");
      return this;
    }

    public CommandOptions build() {
      return new CommandOptions(envs, cwd, user, timeout, stdin, onStdout, onStderr);
    }
  }
}
