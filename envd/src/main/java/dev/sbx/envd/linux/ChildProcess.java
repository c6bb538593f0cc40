package dev.sbx.envd.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A child process started with {@code posix_spawn}: in a session of its own, with every signal at
 * its default action and none blocked, with only the descriptors its {@link FileAction}s give it
 * (everything from 3 up is closed). It is reaped by {@link #tryReap} once its {@link #pidfd()}
 * becomes readable; until then {@link #signal} cannot hit a recycled pid.
 *
 * <p>Where the kernel has no {@code pidfd_open} (gVisor 20240729 answers {@code ENOSYS}; a seccomp
 * filter may answer {@code EPERM}), or when {@link ExitWatch#POLL} asks for it, the child has no
 * pidfd ({@link #pidfd()} is -1) and its owner finds the exit by calling {@link #tryReap} ({@code
 * waitpid(WNOHANG)}) from time to time. That is as exact (the child is ours and unreaped, so its
 * pid cannot be reused), only later by up to the polling interval.
 */
public final class ChildProcess implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(ChildProcess.class.getName());

  /** How the end of a child is noticed. */
  public enum ExitWatch {
    /** A pidfd that becomes readable, if the kernel has {@code pidfd_open}; else {@link #POLL}. */
    PIDFD,
    /** No pidfd: the owner polls {@link #tryReap} (forced, e.g. {@code ENVD_PIDFD=off}). */
    POLL
  }

  /** Set once {@code pidfd_open} answered {@code ENOSYS}: not tried again. */
  private static volatile boolean pidfdMissing;

  private static final short POSIX_SPAWN_SETSIGDEF = 0x04;
  private static final short POSIX_SPAWN_SETSIGMASK = 0x08;
  private static final short POSIX_SPAWN_SETSID = 0x80;

  /** Generous sizes for glibc's opaque types (80 and 336 bytes on x86_64). */
  private static final long FILE_ACTIONS_SIZE = 512;

  private static final long SPAWNATTR_SIZE = 1024;
  private static final long SIGSET_SIZE = 128;

  private static final MethodHandle SPAWN =
      Libc.plain(
          "posix_spawn",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
  private static final MethodHandle ACTIONS_INIT =
      Libc.plain("posix_spawn_file_actions_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
  private static final MethodHandle ACTIONS_DESTROY =
      Libc.plain("posix_spawn_file_actions_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
  private static final MethodHandle ADD_DUP2 =
      Libc.plain(
          "posix_spawn_file_actions_adddup2",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
  private static final MethodHandle ADD_OPEN =
      Libc.plain(
          "posix_spawn_file_actions_addopen",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
  private static final MethodHandle ADD_CHDIR =
      Libc.plain(
          "posix_spawn_file_actions_addchdir_np",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
  private static final @Nullable MethodHandle ADD_CLOSEFROM =
      Libc.optionalPlain(
          "posix_spawn_file_actions_addclosefrom_np",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
  private static final MethodHandle ATTR_INIT =
      Libc.plain("posix_spawnattr_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
  private static final MethodHandle ATTR_DESTROY =
      Libc.plain("posix_spawnattr_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
  private static final MethodHandle ATTR_SETFLAGS =
      Libc.plain("posix_spawnattr_setflags", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_SHORT));
  private static final MethodHandle ATTR_SETSIGMASK =
      Libc.plain("posix_spawnattr_setsigmask", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
  private static final MethodHandle ATTR_SETSIGDEFAULT =
      Libc.plain(
          "posix_spawnattr_setsigdefault", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
  private static final MethodHandle SIGEMPTYSET =
      Libc.plain("sigemptyset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
  private static final MethodHandle SIGFILLSET =
      Libc.plain("sigfillset", FunctionDescriptor.of(JAVA_INT, ADDRESS));

  /** What the child's descriptors are, applied in order before it executes. */
  public sealed interface FileAction {
    /** {@code dup2(from, to)} in the child. */
    record Dup2(int from, int to) implements FileAction {}

    /**
     * {@code open(path, flags)} as descriptor {@code fd} in the child. Opening a terminal without
     * {@code O_NOCTTY} makes it the controlling terminal of the child's new session.
     */
    record Open(int fd, String path, int flags) implements FileAction {}
  }

  private final int pid;
  private final int pidfd;
  private @Nullable WaitStatus status;
  private boolean closed;

  private ChildProcess(int pid, int pidfd) {
    this.pid = pid;
    this.pidfd = pidfd;
  }

  /**
   * Starts {@code path} with {@code argv} and exactly the environment {@code env} ({@code
   * NAME=value} strings) in directory {@code cwd}.
   *
   * @throws ErrnoException when the program cannot be started (nothing is left running then)
   */
  public static ChildProcess spawn(
      Path path, List<String> argv, List<String> env, Path cwd, List<FileAction> actions)
      throws ErrnoException {
    return spawn(path, argv, env, cwd, actions, ExitWatch.PIDFD);
  }

  /**
   * As {@link #spawn(Path, List, List, Path, List)}, noticing the exit as {@code watch} says.
   *
   * @throws ErrnoException when the program cannot be started (nothing is left running then)
   */
  public static ChildProcess spawn(
      Path path,
      List<String> argv,
      List<String> env,
      Path cwd,
      List<FileAction> actions,
      ExitWatch watch)
      throws ErrnoException {
    requireNonNull(watch, "watch");
    requireNonNull(path, "path");
    requireNonNull(argv, "argv");
    requireNonNull(env, "env");
    requireNonNull(cwd, "cwd");
    requireNonNull(actions, "actions");
    int pid;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment fileActions = arena.allocate(FILE_ACTIONS_SIZE, 16);
      MemorySegment attr = arena.allocate(SPAWNATTR_SIZE, 16);
      check("posix_spawn_file_actions_init", (int) ACTIONS_INIT.invokeExact(fileActions));
      try {
        check("posix_spawnattr_init", (int) ATTR_INIT.invokeExact(attr));
        try {
          for (FileAction action : actions) {
            switch (action) {
              case FileAction.Dup2(int from, int to) ->
                  check(
                      "posix_spawn_file_actions_adddup2",
                      (int) ADD_DUP2.invokeExact(fileActions, from, to));
              case FileAction.Open(int fd, String file, int flags) ->
                  check(
                      "posix_spawn_file_actions_addopen",
                      (int)
                          ADD_OPEN.invokeExact(
                              fileActions, fd, arena.allocateFrom(file), flags, 0));
            }
          }
          closeOtherDescriptors(fileActions);
          check(
              "posix_spawn_file_actions_addchdir_np",
              (int) ADD_CHDIR.invokeExact(fileActions, arena.allocateFrom(cwd.toString())));

          MemorySegment noSignals = arena.allocate(SIGSET_SIZE, 8);
          MemorySegment allSignals = arena.allocate(SIGSET_SIZE, 8);
          check("sigemptyset", (int) SIGEMPTYSET.invokeExact(noSignals));
          check("sigfillset", (int) SIGFILLSET.invokeExact(allSignals));
          check("posix_spawnattr_setsigmask", (int) ATTR_SETSIGMASK.invokeExact(attr, noSignals));
          check(
              "posix_spawnattr_setsigdefault",
              (int) ATTR_SETSIGDEFAULT.invokeExact(attr, allSignals));
          short flags = POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
          check("posix_spawnattr_setflags", (int) ATTR_SETFLAGS.invokeExact(attr, flags));

          MemorySegment pidOut = arena.allocate(JAVA_INT);
          int rc =
              (int)
                  SPAWN.invokeExact(
                      pidOut,
                      arena.allocateFrom(path.toString()),
                      fileActions,
                      attr,
                      cStrings(arena, argv),
                      cStrings(arena, env));
          check("posix_spawn", rc);
          pid = pidOut.get(JAVA_INT, 0);
        } finally {
          int ignored = (int) ATTR_DESTROY.invokeExact(attr);
        }
      } finally {
        int ignored = (int) ACTIONS_DESTROY.invokeExact(fileActions);
      }
    } catch (ErrnoException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
    return new ChildProcess(pid, watch == ExitWatch.PIDFD ? openPidfd(pid) : -1);
  }

  /**
   * A pidfd for the child, or -1 when the kernel cannot give one: any failure falls back to
   * polling, which is always correct for an unreaped child of ours.
   */
  private static int openPidfd(int pid) {
    if (pidfdMissing) {
      return -1;
    }
    try {
      return Syscalls.pidfdOpen(pid);
    } catch (ErrnoException e) {
      if (e.errno() == Syscalls.ENOSYS) {
        pidfdMissing = true;
        LOG.log(
            System.Logger.Level.INFO,
            "pidfd_open is not implemented here (gVisor?): process exits are found by polling");
      } else {
        LOG.log(System.Logger.Level.WARNING, "pidfd_open failed, polling for the exit: {0}", e);
      }
      return -1;
    }
  }

  public int pid() {
    return pid;
  }

  /**
   * Readable once the child has ended; {@link #tryReap} then returns its status. -1 when there is
   * none (see the class comment): then poll {@link #tryReap}.
   */
  public int pidfd() {
    return pidfd;
  }

  /** Sends a signal; false when the child has already been reaped. */
  public synchronized boolean signal(int signal) throws ErrnoException {
    return status == null && Syscalls.kill(pid, signal);
  }

  /** The child's status once it has ended (reaping it), or null while it runs. */
  public synchronized @Nullable WaitStatus tryReap() throws ErrnoException {
    if (status == null) {
      status = Syscalls.waitNoHang(pid);
    }
    return status;
  }

  /**
   * Closes the pidfd. A child still running is killed and reaped first, so no zombie is left; that
   * blocks briefly, so call it from a platform thread.
   */
  @Override
  public synchronized void close() throws ErrnoException {
    if (closed) {
      return;
    }
    if (status == null) {
      Syscalls.kill(pid, Syscalls.SIGKILL);
      status = Syscalls.waitBlocking(pid);
    }
    closed = true;
    if (pidfd >= 0) {
      Syscalls.close(pidfd);
    }
  }

  /**
   * Adds {@code closefrom(3)} (glibc 2.34+). Older C libraries get every descriptor of this JVM
   * from 3 up marked close-on-exec instead, since the JDK does not open all of them so.
   */
  private static void closeOtherDescriptors(MemorySegment fileActions) throws Throwable {
    MethodHandle closeFrom = ADD_CLOSEFROM;
    if (closeFrom != null) {
      check(
          "posix_spawn_file_actions_addclosefrom_np", (int) closeFrom.invokeExact(fileActions, 3));
      return;
    }
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
      for (Path fd : fds) {
        int number = Integer.parseInt(fd.getFileName().toString());
        if (number > 2) {
          Syscalls.setCloseOnExec(number);
        }
      }
    } catch (IOException e) {
      throw new ErrnoException("closefrom", Syscalls.ENOSYS);
    }
  }

  private static MemorySegment cStrings(Arena arena, List<String> strings) {
    MemorySegment array = arena.allocate(ADDRESS, strings.size() + 1L);
    for (int i = 0; i < strings.size(); i++) {
      array.setAtIndex(ADDRESS, i, arena.allocateFrom(strings.get(i)));
    }
    array.setAtIndex(ADDRESS, strings.size(), MemorySegment.NULL);
    return array;
  }

  /** posix_spawn and its helpers return the error number instead of setting errno. */
  private static void check(String call, int rc) throws ErrnoException {
    if (rc != 0) {
      throw new ErrnoException(call, rc);
    }
  }
}
