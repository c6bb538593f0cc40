package dev.sbx.sdk.pty;

import dev.sbx.sdk.commands.CommandHandle;
import java.nio.charset.StandardCharsets;

/** Pseudo-terminals of one sandbox. E2B: {@code sandbox.pty}. */
public interface Pty {
  /**
   * Starts {@code /bin/bash -i -l} on a new terminal. Its output goes to {@link
   * PtyOptions#onData()}; {@link CommandHandle#waitFor()} returns when the shell exits.
   */
  CommandHandle create(PtyOptions options);

  /** Sends raw input (keystrokes) to the terminal. */
  void sendInput(int pid, byte[] data);

  /** Sends UTF-8 text to the terminal, e.g. {@code "ls\n"}. */
  default void sendInput(int pid, String data) {
    sendInput(pid, data.getBytes(StandardCharsets.UTF_8));
  }

  /** Resizes the terminal. */
  void resize(int pid, PtySize size);

  /** Kills the terminal's shell (SIGKILL); false if it no longer exists. */
  boolean kill(int pid);
}
