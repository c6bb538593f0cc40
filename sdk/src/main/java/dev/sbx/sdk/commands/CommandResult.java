package dev.sbx.sdk.commands;

import static java.util.Objects.requireNonNull;

import org.jspecify.annotations.Nullable;

/**
 * How a command ended.
 *
 * @param exitCode the exit code; -1 when the process was killed by a signal
 * @param stdout everything it wrote to stdout (UTF-8)
 * @param stderr everything it wrote to stderr (UTF-8)
 * @param error envd's error text about the process, if any (e.g. {@code signal: killed})
 */
public record CommandResult(int exitCode, String stdout, String stderr, @Nullable String error) {
  public CommandResult {
    requireNonNull(stdout, "stdout");
    requireNonNull(stderr, "stderr");
  }
}
