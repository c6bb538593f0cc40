package dev.sbx.envd.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One inotify instance ({@code inotify(7)}): watches are added and removed from any thread, one
 * thread at a time {@linkplain #read() reads} events. {@link #close()} wakes a blocked reader (an
 * {@code eventfd} polled next to the inotify descriptor), waits until it has left the kernel, and
 * then closes both descriptors, so a descriptor is never closed while a thread still reads from it.
 */
public final class Inotify implements AutoCloseable {
  public static final int IN_ACCESS = 0x00000001;
  public static final int IN_MODIFY = 0x00000002;
  public static final int IN_ATTRIB = 0x00000004;
  public static final int IN_CLOSE_WRITE = 0x00000008;
  public static final int IN_MOVED_FROM = 0x00000040;
  public static final int IN_MOVED_TO = 0x00000080;
  public static final int IN_CREATE = 0x00000100;
  public static final int IN_DELETE = 0x00000200;
  public static final int IN_DELETE_SELF = 0x00000400;
  public static final int IN_MOVE_SELF = 0x00000800;
  public static final int IN_UNMOUNT = 0x00002000;
  public static final int IN_Q_OVERFLOW = 0x00004000;
  public static final int IN_IGNORED = 0x00008000;
  public static final int IN_ONLYDIR = 0x01000000;
  public static final int IN_DONT_FOLLOW = 0x02000000;
  public static final int IN_ISDIR = 0x40000000;

  private static final int IN_NONBLOCK = 0x800;
  private static final int IN_CLOEXEC = 0x80000;
  private static final int EVENT_HEADER_SIZE = 16;
  private static final int BUFFER_SIZE = 64 * 1024;

  private static final MethodHandle INOTIFY_INIT1 =
      Libc.withErrno("inotify_init1", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
  private static final MethodHandle INOTIFY_ADD_WATCH =
      Libc.withErrno(
          "inotify_add_watch", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
  private static final MethodHandle INOTIFY_RM_WATCH =
      Libc.withErrno("inotify_rm_watch", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));

  /**
   * One event as the kernel reported it.
   *
   * @param wd the watch descriptor, or -1 for {@link #IN_Q_OVERFLOW}
   * @param name the entry's name inside the watched directory; empty when the event is about the
   *     watched path itself
   */
  public record Event(int wd, int mask, int cookie, String name) {
    public boolean has(int flag) {
      return (mask & flag) != 0;
    }
  }

  private final int fd;
  private final int wakeFd;

  /** Held (shared) by every use of the descriptors; held exclusively to close them. */
  private final ReentrantReadWriteLock fdLock = new ReentrantReadWriteLock();

  private final ReentrantLock readerLock = new ReentrantLock();
  private final AtomicBoolean closing = new AtomicBoolean();
  private final Arena readArena = Arena.ofShared();
  private final MemorySegment buffer;
  private final MemorySegment pollFds;
  private volatile boolean closed;
  private boolean released;

  private Inotify(int fd, int wakeFd) {
    this.fd = fd;
    this.wakeFd = wakeFd;
    this.buffer = readArena.allocate(BUFFER_SIZE, 8);
    this.pollFds = readArena.allocate(2 * Syscalls.POLLFD_SIZE, 8);
  }

  /** Creates an inotify instance (close-on-exec, non-blocking). */
  public static Inotify open() throws IOException {
    int fd;
    try {
      fd = (int) INOTIFY_INIT1.invokeExact(Libc.callState(), IN_NONBLOCK | IN_CLOEXEC);
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
    Libc.check("inotify_init1", fd);
    int wakeFd;
    try {
      wakeFd = Syscalls.eventfd();
    } catch (ErrnoException e) {
      Syscalls.close(fd);
      throw e;
    }
    return new Inotify(fd, wakeFd);
  }

  /**
   * Watches {@code path} for the events of {@code mask}; returns the watch descriptor. Adding a
   * path whose inode is already watched returns that watch's descriptor (and replaces its mask).
   */
  public int addWatch(Path path, int mask) throws IOException {
    requireNonNull(path, "path");
    fdLock.readLock().lock();
    try (Arena arena = Arena.ofConfined()) {
      if (released) {
        throw new IOException("inotify instance is closed");
      }
      MemorySegment name = Libc.path(arena, path);
      int wd = (int) INOTIFY_ADD_WATCH.invokeExact(Libc.callState(), fd, name, mask);
      if (wd < 0) {
        throw Libc.failure("inotify_add_watch", path, Libc.errno());
      }
      return wd;
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    } finally {
      fdLock.readLock().unlock();
    }
  }

  /**
   * Stops a watch. A watch the kernel has already dropped (its inode is gone) is not an error.
   * Returns whether the watch was still there.
   */
  public boolean removeWatch(int wd) {
    fdLock.readLock().lock();
    try {
      if (released) {
        return false;
      }
      return (int) INOTIFY_RM_WATCH.invokeExact(Libc.callState(), fd, wd) == 0;
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    } finally {
      fdLock.readLock().unlock();
    }
  }

  /**
   * Waits for events and returns them (at least one), or an empty list once this instance is
   * closed. Only one thread may read at a time.
   */
  public List<Event> read() throws IOException {
    readerLock.lock();
    fdLock.readLock().lock();
    try {
      while (!closed && !released) {
        if (!waitReadable()) {
          continue;
        }
        long n = Syscalls.read(fd, buffer, BUFFER_SIZE);
        if (n > 0) {
          return parse(n);
        }
      }
      return List.of();
    } finally {
      fdLock.readLock().unlock();
      readerLock.unlock();
    }
  }

  public boolean isClosed() {
    return closed;
  }

  /**
   * Closes the instance and every watch in it. Wakes a thread blocked in {@link #read()} and
   * returns once it has left (a second, concurrent call returns at once); idempotent.
   */
  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    closed = true;
    signalWake();
    fdLock.writeLock().lock();
    try {
      released = true;
      Syscalls.close(fd);
      Syscalls.close(wakeFd);
      readArena.close();
    } finally {
      fdLock.writeLock().unlock();
    }
  }

  /** Polls both descriptors; true when the inotify descriptor is readable. */
  private boolean waitReadable() throws IOException {
    Syscalls.pollEntry(pollFds, 0, fd, Syscalls.POLLIN);
    Syscalls.pollEntry(pollFds, 1, wakeFd, Syscalls.POLLIN);
    return Syscalls.poll(pollFds, 2, -1) > 0 && Syscalls.pollResult(pollFds, 0) != 0;
  }

  private List<Event> parse(long length) {
    List<Event> events = new ArrayList<>();
    long offset = 0;
    while (offset + EVENT_HEADER_SIZE <= length) {
      int wd = buffer.get(JAVA_INT_UNALIGNED, offset);
      int mask = buffer.get(JAVA_INT_UNALIGNED, offset + 4);
      int cookie = buffer.get(JAVA_INT_UNALIGNED, offset + 8);
      int nameLength = buffer.get(JAVA_INT_UNALIGNED, offset + 12);
      String name = "";
      if (nameLength > 0) {
        byte[] bytes = buffer.asSlice(offset + EVENT_HEADER_SIZE, nameLength).toArray(JAVA_BYTE);
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) {
          end++;
        }
        name = new String(bytes, 0, end, StandardCharsets.UTF_8);
      }
      events.add(new Event(wd, mask, cookie, name));
      offset += EVENT_HEADER_SIZE + nameLength;
    }
    return events;
  }

  /** Adds 1 to the wake-up counter; a counter that is already set (EAGAIN) is just as good. */
  private void signalWake() {
    try {
      Syscalls.signalEventfd(wakeFd);
    } catch (ErrnoException e) {
      throw new IllegalStateException("eventfd write: " + Libc.strerror(e.errno()), e);
    }
  }
}
