package dev.sbx.sdk.commands;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The commands of one sandbox. Commands run as {@code /bin/bash -l -c <cmd>}. E2B: {@code
 * sandbox.commands}.
 */
public interface Commands {
  /**
   * Runs a command in the foreground and returns its result once it has ended.
   *
   * @throws CommandExitException when the exit code is not 0
   */
  default CommandResult run(String cmd) {
    return run(cmd, CommandOptions.defaults());
  }

  /**
   * Runs a command in the foreground with options (callbacks, envs, cwd, user, timeout).
   *
   * @throws CommandExitException when the exit code is not 0
   * @throws dev.sbx.sdk.TimeoutException when the timeout was hit
   */
  default CommandResult run(String cmd, CommandOptions options) {
    return start(cmd, options).waitFor();
  }

  /** Starts a command in the background (E2B: {@code run(cmd, {background: true})}). */
  default CommandHandle start(String cmd) {
    return start(cmd, CommandOptions.defaults());
  }

  /**
   * Starts a command in the background and returns once it is running. Its output goes to the
   * callbacks of {@code options} and is collected in the handle.
   */
  CommandHandle start(String cmd, CommandOptions options);

  /** The processes running in the sandbox. */
  List<ProcessInfo> list();

  /** Attaches to a running process (its output from now on). */
  default CommandHandle connect(int pid) {
    return connect(pid, CommandOptions.defaults());
  }

  /**
   * Attaches to a running process; of {@code options} only the callbacks and the timeout are used.
   *
   * @throws dev.sbx.sdk.NotFoundException when there is no such process
   */
  CommandHandle connect(int pid, CommandOptions options);

  /** Kills a process (SIGKILL); false if there is no such process. */
  boolean kill(int pid);

  /** Writes to a process's stdin. */
  void sendStdin(int pid, byte[] data);

  /** Writes UTF-8 text to a process's stdin. */
  default void sendStdin(int pid, String data) {
    sendStdin(pid, data.getBytes(StandardCharsets.UTF_8));
  }

  /** Closes a process's stdin (EOF); needs envd 0.5.2. Not for PTYs. */
  void closeStdin(int pid);
}
