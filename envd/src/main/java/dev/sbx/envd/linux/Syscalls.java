package dev.sbx.envd.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static java.util.Objects.requireNonNull;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * Thin wrappers of Linux C library calls (glibc, x86_64 and aarch64). Failures throw {@link
 * ErrnoException}; {@code EINTR} is retried where that is the right answer. Every call here returns
 * at once (descriptors are non-blocking where it matters) except {@link #poll} with a timeout,
 * which must run on a platform thread.
 */
public final class Syscalls {
  public static final int O_RDONLY = 0;
  public static final int O_WRONLY = 1;
  public static final int O_RDWR = 2;
  public static final int O_NOCTTY = 0x100;
  public static final int O_NONBLOCK = 0x800;
  public static final int O_CLOEXEC = 0x80000;

  public static final short POLLIN = 0x1;
  public static final short POLLOUT = 0x4;
  public static final short POLLERR = 0x8;
  public static final short POLLHUP = 0x10;
  public static final short POLLNVAL = 0x20;

  public static final int EPERM = 1;
  public static final int ENOENT = 2;
  public static final int ESRCH = 3;
  public static final int EINTR = 4;
  public static final int EIO = 5;
  public static final int ECHILD = 10;
  public static final int EAGAIN = 11;
  public static final int EACCES = 13;
  public static final int ENOTDIR = 20;
  public static final int EPIPE = 32;
  public static final int ERANGE = 34;
  public static final int ENOSYS = 38;
  public static final int ENODATA = 61;
  public static final int EOPNOTSUPP = 95;

  public static final int SIGINT = 2;
  public static final int SIGKILL = 9;
  public static final int SIGTERM = 15;

  public static final int CLOCK_REALTIME = 0;
  static final int CLOCK_MONOTONIC = 1;

  /** What {@link #read} and {@link #write} return when a non-blocking descriptor is not ready. */
  public static final long WOULD_BLOCK = -1;

  /** The size of one {@code struct pollfd}. */
  public static final long POLLFD_SIZE = 8;

  private static final int F_GETFD = 1;
  private static final int F_SETFD = 2;
  private static final int F_GETFL = 3;
  private static final int F_SETFL = 4;
  private static final int FD_CLOEXEC = 1;
  private static final int WNOHANG = 1;
  private static final long TIOCSWINSZ = 0x5414;
  private static final long SYS_PIDFD_OPEN = 434;

  private static final MethodHandle READ =
      Libc.withErrno("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
  private static final MethodHandle WRITE =
      Libc.withErrno("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
  private static final MethodHandle CLOSE =
      Libc.withErrno("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
  private static final MethodHandle PIPE2 =
      Libc.withErrno("pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
  private static final MethodHandle POLL =
      Libc.withErrno("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
  private static final MethodHandle EVENTFD =
      Libc.withErrno("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
  private static final MethodHandle FCNTL =
      Libc.withErrno(
          "fcntl",
          FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT),
          Linker.Option.firstVariadicArg(2));
  private static final MethodHandle KILL =
      Libc.withErrno("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
  private static final MethodHandle WAITPID =
      Libc.withErrno("waitpid", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
  private static final MethodHandle SYSCALL2 =
      Libc.withErrno(
          "syscall",
          FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
          Linker.Option.firstVariadicArg(1));
  private static final MethodHandle IOCTL_PTR =
      Libc.withErrno(
          "ioctl",
          FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
          Linker.Option.firstVariadicArg(2));
  private static final MethodHandle POSIX_OPENPT =
      Libc.withErrno("posix_openpt", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
  private static final MethodHandle GRANTPT =
      Libc.withErrno("grantpt", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
  private static final MethodHandle UNLOCKPT =
      Libc.withErrno("unlockpt", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
  private static final MethodHandle PTSNAME_R =
      Libc.plain("ptsname_r", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG));
  private static final MethodHandle CLOCK_SETTIME =
      Libc.withErrno("clock_settime", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));

  private Syscalls() {}

  /** Both ends of a pipe, close-on-exec. */
  public record Pipe(int readEnd, int writeEnd) {}

  /** A pseudoterminal: the master (close-on-exec, owned by the caller) and the slave's path. */
  public record Pty(int master, String slavePath) {}

  public static Pipe pipe() throws ErrnoException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment fds = arena.allocate(JAVA_INT, 2);
      int rc = (int) PIPE2.invokeExact(Libc.callState(), fds, O_CLOEXEC);
      Libc.check("pipe2", rc);
      return new Pipe(fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1));
    } catch (ErrnoException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /**
   * Reads up to {@code length} bytes into {@code buffer}: the count, 0 at end of file, or {@link
   * #WOULD_BLOCK}.
   */
  public static long read(int fd, MemorySegment buffer, long length) throws ErrnoException {
    return transfer(READ, "read", fd, buffer, length);
  }

  /** Writes up to {@code length} bytes: the count written, or {@link #WOULD_BLOCK}. */
  public static long write(int fd, MemorySegment buffer, long length) throws ErrnoException {
    return transfer(WRITE, "write", fd, buffer, length);
  }

  /** Closes a descriptor; errors are ignored (Linux releases the descriptor in any case). */
  public static void close(int fd) {
    if (fd < 0) {
      return;
    }
    try {
      int rc = (int) CLOSE.invokeExact(Libc.callState(), fd);
      assert rc == 0 || rc == -1;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /**
   * Waits until one of {@code count} {@code struct pollfd} in {@code fds} is ready or {@code
   * timeoutMillis} pass (-1: no limit): the number ready, 0 on timeout or interruption.
   */
  public static int poll(MemorySegment fds, int count, int timeoutMillis) throws ErrnoException {
    int rc;
    try {
      rc = (int) POLL.invokeExact(Libc.callState(), fds, (long) count, timeoutMillis);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
    if (rc < 0) {
      int errno = Libc.errno();
      if (errno == EINTR) {
        return 0;
      }
      throw new ErrnoException("poll", errno);
    }
    return rc;
  }

  /** Sets the {@code index}th {@code struct pollfd} of {@code fds}. */
  public static void pollEntry(MemorySegment fds, int index, int fd, short events) {
    long base = index * POLLFD_SIZE;
    fds.set(JAVA_INT, base, fd);
    fds.set(JAVA_SHORT, base + 4, events);
    fds.set(JAVA_SHORT, base + 6, (short) 0);
  }

  /** The {@code revents} of the {@code index}th {@code struct pollfd}. */
  public static short pollResult(MemorySegment fds, int index) {
    return fds.get(JAVA_SHORT, index * POLLFD_SIZE + 6);
  }

  /** A non-blocking, close-on-exec eventfd, for waking a thread that waits in {@link #poll}. */
  public static int eventfd() throws ErrnoException {
    int fd;
    try {
      fd = (int) EVENTFD.invokeExact(Libc.callState(), 0, O_CLOEXEC | O_NONBLOCK);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
    return Libc.check("eventfd", fd);
  }

  /** Makes an eventfd readable. */
  public static void signalEventfd(int fd) throws ErrnoException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment one = arena.allocate(JAVA_LONG);
      one.set(JAVA_LONG, 0, 1L);
      write(fd, one, 8);
    }
  }

  /** Resets an eventfd to not readable. */
  public static void drainEventfd(int fd) throws ErrnoException {
    try (Arena arena = Arena.ofConfined()) {
      read(fd, arena.allocate(JAVA_LONG), 8);
    }
  }

  public static void setNonBlocking(int fd) throws ErrnoException {
    int flags = Libc.check("fcntl", fcntl(fd, F_GETFL, 0));
    Libc.check("fcntl", fcntl(fd, F_SETFL, flags | O_NONBLOCK));
  }

  /** Sets close-on-exec; false when {@code fd} is not open. */
  public static boolean setCloseOnExec(int fd) {
    int flags = fcntl(fd, F_GETFD, 0);
    return flags >= 0 && fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == 0;
  }

  /** Sends a signal; false when no such process exists. */
  public static boolean kill(int pid, int signal) throws ErrnoException {
    int rc;
    try {
      rc = (int) KILL.invokeExact(Libc.callState(), pid, signal);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
    if (rc == 0) {
      return true;
    }
    int errno = Libc.errno();
    if (errno == ESRCH) {
      return false;
    }
    throw new ErrnoException("kill", errno);
  }

  /** {@code waitpid(pid, &status, WNOHANG)}: the status, or null while the child runs. */
  public static @Nullable WaitStatus waitNoHang(int pid) throws ErrnoException {
    return waitpid(pid, WNOHANG);
  }

  /** {@code waitpid(pid, &status, 0)}: blocks until the child ends. Platform threads only. */
  public static WaitStatus waitBlocking(int pid) throws ErrnoException {
    WaitStatus status = waitpid(pid, 0);
    if (status == null) {
      throw new ErrnoException("waitpid", ECHILD);
    }
    return status;
  }

  private static @Nullable WaitStatus waitpid(int pid, int options) throws ErrnoException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment status = arena.allocate(JAVA_INT);
      while (true) {
        int rc;
        try {
          rc = (int) WAITPID.invokeExact(Libc.callState(), pid, status, options);
        } catch (Throwable t) {
          throw new AssertionError(t);
        }
        if (rc == pid) {
          return new WaitStatus(status.get(JAVA_INT, 0));
        }
        if (rc == 0) {
          return null;
        }
        int errno = Libc.errno();
        if (errno != EINTR) {
          throw new ErrnoException("waitpid", errno);
        }
      }
    }
  }

  /** A pidfd (close-on-exec) that becomes readable when the child ends (Linux 5.3+). */
  public static int pidfdOpen(int pid) throws ErrnoException {
    long rc;
    try {
      rc = (long) SYSCALL2.invokeExact(Libc.callState(), SYS_PIDFD_OPEN, (long) pid, 0L);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
    if (rc < 0) {
      throw new ErrnoException("pidfd_open", Libc.errno());
    }
    return (int) rc;
  }

  /** Opens a new pseudoterminal, unlocked, with the master non-blocking and close-on-exec. */
  public static Pty openPty() throws ErrnoException {
    int master;
    try {
      master = (int) POSIX_OPENPT.invokeExact(Libc.callState(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
    Libc.check("posix_openpt", master);
    try (Arena arena = Arena.ofConfined()) {
      Libc.check("grantpt", (int) GRANTPT.invokeExact(Libc.callState(), master));
      Libc.check("unlockpt", (int) UNLOCKPT.invokeExact(Libc.callState(), master));
      MemorySegment name = arena.allocate(128);
      int rc = (int) PTSNAME_R.invokeExact(master, name, 128L);
      if (rc != 0) {
        throw new ErrnoException("ptsname_r", rc);
      }
      setNonBlocking(master);
      return new Pty(master, name.getString(0, StandardCharsets.UTF_8));
    } catch (ErrnoException | RuntimeException | Error e) {
      close(master);
      throw e;
    } catch (Throwable t) {
      close(master);
      throw new AssertionError(t);
    }
  }

  /** Sets a terminal's window size ({@code TIOCSWINSZ}); the kernel sends SIGWINCH. */
  public static void setWindowSize(int fd, int cols, int rows) throws ErrnoException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment size = arena.allocate(8);
      size.set(JAVA_SHORT, 0, (short) rows);
      size.set(JAVA_SHORT, 2, (short) cols);
      int rc = (int) IOCTL_PTR.invokeExact(Libc.callState(), fd, TIOCSWINSZ, size);
      Libc.check("ioctl(TIOCSWINSZ)", rc);
    } catch (ErrnoException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** Sets a clock ({@code clock_settime(2)}); needs {@code CAP_SYS_TIME} for the wall clock. */
  public static void clockSettime(int clockId, Instant time) throws ErrnoException {
    requireNonNull(time, "time");
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment timespec = arena.allocate(16, 8);
      timespec.set(JAVA_LONG, 0, time.getEpochSecond());
      timespec.set(JAVA_LONG, 8, time.getNano());
      int rc = (int) CLOCK_SETTIME.invokeExact(Libc.callState(), clockId, timespec);
      Libc.check("clock_settime", rc);
    } catch (ErrnoException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /**
   * {@code read(2)} or {@code write(2)}: retried on {@code EINTR}, {@link #WOULD_BLOCK} on {@code
   * EAGAIN}.
   */
  private static long transfer(
      MethodHandle readOrWrite, String call, int fd, MemorySegment buffer, long length)
      throws ErrnoException {
    while (true) {
      long n;
      try {
        n = (long) readOrWrite.invokeExact(Libc.callState(), fd, buffer, length);
      } catch (Throwable t) {
        throw new AssertionError(call, t);
      }
      if (n >= 0) {
        return n;
      }
      int errno = Libc.errno();
      if (errno == EAGAIN) {
        return WOULD_BLOCK;
      }
      if (errno != EINTR) {
        throw new ErrnoException(call, errno);
      }
    }
  }

  private static int fcntl(int fd, int command, int argument) {
    try {
      return (int) FCNTL.invokeExact(Libc.callState(), fd, command, argument);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }
}
