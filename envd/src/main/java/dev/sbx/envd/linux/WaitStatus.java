package dev.sbx.envd.linux;

/**
 * The status {@code waitpid} reports for a child that ended, decoded as the C macros do on Linux.
 *
 * @param raw the {@code int} that {@code waitpid} stored
 */
public record WaitStatus(int raw) {
  /** {@code WIFEXITED}: the child called {@code exit}. */
  public boolean exited() {
    return (raw & 0x7f) == 0;
  }

  /** {@code WEXITSTATUS}: meaningful only when {@link #exited()}. */
  public int exitCode() {
    return (raw >> 8) & 0xff;
  }

  /** {@code WIFSIGNALED}: a signal ended the child. */
  public boolean signaled() {
    int low = raw & 0x7f;
    return low != 0 && low != 0x7f;
  }

  /** {@code WTERMSIG}: meaningful only when {@link #signaled()}. */
  public int termSignal() {
    return raw & 0x7f;
  }

  /** {@code WCOREDUMP}. */
  public boolean coreDumped() {
    return signaled() && (raw & 0x80) != 0;
  }

  /** The status of a child that called {@code exit(code)}. */
  public static WaitStatus ofExit(int code) {
    return new WaitStatus((code & 0xff) << 8);
  }

  /** The status of a child that a signal ended. */
  public static WaitStatus ofSignal(int signal) {
    return new WaitStatus(signal & 0x7f);
  }
}
