package dev.sbx.sdk.commands;

import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * A command (or PTY) running in the sandbox, from {@link Commands#start}, {@link Commands#connect}
 * or {@link dev.sbx.sdk.pty.Pty#create}. Its output is read in the background: the callbacks of the
 * options see it as it arrives, {@link #stdout()} and {@link #stderr()} hold what came so far. E2B:
 * {@code CommandHandle}.
 */
public interface CommandHandle {
  /** The process ID in the sandbox. */
  int pid();

  /**
   * Blocks until the command ends and returns its result.
   *
   * @throws CommandExitException when the exit code is not 0
   * @throws dev.sbx.sdk.TimeoutException when the command's timeout was hit
   * @throws dev.sbx.sdk.SandboxException when the output stream failed
   */
  CommandResult waitFor();

  /** Kills the process (SIGKILL); false if it no longer exists. */
  boolean kill();

  /** Writes to the process's stdin (it must have been started with {@code stdin(true)}). */
  void sendStdin(byte[] data);

  /** Writes UTF-8 text to the process's stdin. */
  default void sendStdin(String data) {
    sendStdin(data.getBytes(StandardCharsets.UTF_8));
  }

  /** stdout so far. */
  String stdout();

  /** stderr so far. */
  String stderr();

  /** The exit code once the command has ended, else {@code null}. */
  @Nullable Integer exitCode();

  /** envd's error text once the command has ended with one, else {@code null}. */
  @Nullable String error();

  /**
   * Stops receiving output without killing the process; {@link #waitFor()} then fails. The process
   * can be reattached with {@link Commands#connect}.
   */
  void disconnect();
}
