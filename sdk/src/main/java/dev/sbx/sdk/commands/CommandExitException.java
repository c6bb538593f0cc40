package dev.sbx.sdk.commands;

import static java.util.Objects.requireNonNull;

import dev.sbx.sdk.SandboxException;
import org.jspecify.annotations.Nullable;

/**
 * A command exited with a non-zero code: thrown by {@link Commands#run} and {@link
 * CommandHandle#waitFor()}. The result, with all output, is attached. E2B: {@code
 * CommandExitError}.
 */
public final class CommandExitException extends SandboxException {
  private static final long serialVersionUID = 1L;

  private final transient CommandResult result;

  public CommandExitException(CommandResult result) {
    super(message(requireNonNull(result, "result")));
    this.result = result;
  }

  private static String message(CommandResult result) {
    String detail = result.error() != null ? result.error() : result.stderr().strip();
    return "command exited with code "
        + result.exitCode()
        + (detail.isEmpty() ? "" : ": " + detail);
  }

  public CommandResult result() {
    return result;
  }

  public int exitCode() {
    return result.exitCode();
  }

  public String stdout() {
    return result.stdout();
  }

  public String stderr() {
    return result.stderr();
  }

  public @Nullable String error() {
    return result.error();
  }
}
