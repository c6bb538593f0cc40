package dev.sbx.orchestrator.lifecycle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Sets the hostname of a running container from the host: a short-lived platform thread enters the
 * UTS namespace of the container's init ({@code setns(2)} on {@code /proc/<pid>/ns/uts}), calls
 * {@code sethostname(2)} and returns to its own namespace. No process is forked; namespaces are per
 * thread, so no other thread of the orchestrator ever sees the container's UTS namespace.
 */
@SuppressWarnings("restricted") // binding the C library is what this class is for
final class UtsNamespace {
  private static final int O_RDONLY = 0;
  private static final int O_CLOEXEC = 0x80000;
  private static final int CLONE_NEWUTS = 0x04000000;

  private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final MethodHandle OPEN;
  private static final MethodHandle SETNS;
  private static final MethodHandle SETHOSTNAME;
  private static final MethodHandle CLOSE;
  private static final MethodHandle STRERROR;

  static {
    Linker linker = Linker.nativeLinker();
    Linker.Option errno = Linker.Option.captureCallState("errno");
    OPEN =
        linker.downcallHandle(
            find(linker, "open"),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            errno,
            Linker.Option.firstVariadicArg(2));
    SETNS =
        linker.downcallHandle(
            find(linker, "setns"), FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), errno);
    SETHOSTNAME =
        linker.downcallHandle(
            find(linker, "sethostname"),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG),
            errno);
    CLOSE = linker.downcallHandle(find(linker, "close"), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    STRERROR =
        linker.downcallHandle(find(linker, "strerror"), FunctionDescriptor.of(ADDRESS, JAVA_INT));
  }

  private UtsNamespace() {}

  private static MemorySegment find(Linker linker, String name) {
    return linker.defaultLookup().find(name).orElseThrow(() -> new UnsatisfiedLinkError(name));
  }

  /**
   * Sets the hostname in the UTS namespace of process {@code pid}.
   *
   * @throws UncheckedIOException with the failed call and its errno text
   */
  static void setHostname(int pid, String hostname) {
    startSetHostname(pid, hostname).await();
  }

  /** A hostname being set on a thread of its own: {@link #await} waits and throws its failure. */
  static final class Pending {
    private final Thread thread;
    private final AtomicReference<RuntimeException> failure;

    private Pending(Thread thread, AtomicReference<RuntimeException> failure) {
      this.thread = thread;
      this.failure = failure;
    }

    /**
     * Waits until the hostname is set.
     *
     * @throws UncheckedIOException with the failed call and its errno text
     */
    void await() {
      try {
        thread.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while setting the hostname", e);
      }
      RuntimeException e = failure.get();
      if (e != null) {
        throw e;
      }
    }
  }

  /** Starts setting the hostname of {@code pid}'s UTS namespace; the caller goes on meanwhile. */
  static Pending startSetHostname(int pid, String hostname) {
    if (pid <= 0) {
      throw new IllegalArgumentException("no process: " + pid);
    }
    byte[] name = hostname.getBytes(StandardCharsets.US_ASCII);
    AtomicReference<RuntimeException> failure = new AtomicReference<>();
    Thread thread =
        Thread.ofPlatform()
            .name("sethostname-" + pid)
            .start(
                () -> {
                  try {
                    setHostnameOnThisThread(pid, name);
                  } catch (RuntimeException e) {
                    failure.set(e);
                  }
                });
    return new Pending(thread, failure);
  }

  private static void setHostnameOnThisThread(int pid, byte[] name) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(CALL_STATE);
      int own = open(arena, state, "/proc/thread-self/ns/uts");
      try {
        int target = open(arena, state, "/proc/" + pid + "/ns/uts");
        try {
          check((int) SETNS.invokeExact(state, target, CLONE_NEWUTS), state, "setns " + pid);
          try {
            MemorySegment text = arena.allocate(name.length);
            text.copyFrom(MemorySegment.ofArray(name));
            check(
                (int) SETHOSTNAME.invokeExact(state, text, (long) name.length),
                state,
                "sethostname");
          } finally {
            check((int) SETNS.invokeExact(state, own, CLONE_NEWUTS), state, "setns back");
          }
        } finally {
          int ignored = (int) CLOSE.invokeExact(target);
        }
      } finally {
        int ignored = (int) CLOSE.invokeExact(own);
      }
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable e) {
      throw new IllegalStateException("setting the hostname failed", e);
    }
  }

  private static int open(Arena arena, MemorySegment state, String path) throws Throwable {
    int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(path), O_RDONLY | O_CLOEXEC, 0);
    check(fd, state, "open " + path);
    return fd;
  }

  private static void check(int result, MemorySegment state, String operation) throws Throwable {
    if (result < 0) {
      int errno = (int) ERRNO.get(state, 0L);
      MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
      throw new UncheckedIOException(
          new IOException(
              operation + ": " + text.reinterpret(1024).getString(0) + " (errno " + errno + ")"));
    }
  }
}
