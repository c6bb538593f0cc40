package dev.sbx.envd.linux;

import java.io.IOException;

/** A system call failed; {@link #errno()} is the C library's error number. */
public final class ErrnoException extends IOException {
  private static final long serialVersionUID = 1L;

  private final String call;
  private final int errno;

  public ErrnoException(String call, int errno) {
    super(call + ": " + Libc.strerror(errno));
    this.call = call;
    this.errno = errno;
  }

  /** The failed call, e.g. {@code posix_spawn}. */
  public String call() {
    return call;
  }

  public int errno() {
    return errno;
  }
}
