package dev.sbx.orchestrator.rootfs;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;

/** {@code mount(2)} and {@code umount2(2)} through the FFM API, failing with the errno's text. */
@SuppressWarnings("restricted") // binding the C library is what this class is for
final class MountSyscalls {
  static final int EINVAL = 22;
  static final int EBUSY = 16;
  static final int MNT_DETACH = 2;

  private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final MethodHandle MOUNT;
  private static final MethodHandle UMOUNT2;
  private static final MethodHandle STRERROR;

  static {
    Linker linker = Linker.nativeLinker();
    MOUNT =
        linker.downcallHandle(
            find(linker, "mount"),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS),
            Linker.Option.captureCallState("errno"));
    UMOUNT2 =
        linker.downcallHandle(
            find(linker, "umount2"),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT),
            Linker.Option.captureCallState("errno"));
    STRERROR =
        linker.downcallHandle(find(linker, "strerror"), FunctionDescriptor.of(ADDRESS, JAVA_INT));
  }

  private MountSyscalls() {}

  private static MemorySegment find(Linker linker, String name) {
    return linker.defaultLookup().find(name).orElseThrow(() -> new UnsatisfiedLinkError(name));
  }

  /** {@code mount(source, target, type, flags, data)}. */
  static void mount(String source, Path target, String type, long flags, String data)
      throws IOException {
    int errno;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(CALL_STATE);
      int result =
          (int)
              MOUNT.invokeExact(
                  state,
                  arena.allocateFrom(source),
                  arena.allocateFrom(target.toString()),
                  arena.allocateFrom(type),
                  flags,
                  arena.allocateFrom(data));
      errno = result == 0 ? 0 : (int) ERRNO.get(state, 0L);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable e) {
      throw new IllegalStateException("mount(2) failed", e);
    }
    if (errno != 0) {
      throw new ErrnoException("mount " + type + " on " + target, errno);
    }
  }

  /** {@code umount2(target, flags)}. */
  static void umount2(Path target, int flags) throws ErrnoException {
    int errno;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(CALL_STATE);
      int result = (int) UMOUNT2.invokeExact(state, arena.allocateFrom(target.toString()), flags);
      errno = result == 0 ? 0 : (int) ERRNO.get(state, 0L);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable e) {
      throw new IllegalStateException("umount2(2) failed", e);
    }
    if (errno != 0) {
      throw new ErrnoException("unmount " + target, errno);
    }
  }

  static String strerror(int errno) {
    try {
      MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
      return text.reinterpret(1024).getString(0);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable e) {
      throw new IllegalStateException("strerror(3) failed", e);
    }
  }

  /** A failed system call: the operation, the errno and its text. */
  static final class ErrnoException extends IOException {
    private final int errno;

    ErrnoException(String operation, int errno) {
      super(operation + ": " + strerror(errno) + " (errno " + errno + ")");
      this.errno = errno;
    }

    int errno() {
      return errno;
    }
  }
}
