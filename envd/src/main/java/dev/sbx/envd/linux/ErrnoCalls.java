package dev.sbx.envd.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * libc downcalls that capture {@code errno}, and the translation of a failed call into the {@link
 * IOException} the JDK would throw for it ({@code ENOENT} → {@link NoSuchFileException}, ...).
 */
final class ErrnoCalls {
  static final int EPERM = 1;
  static final int ENOENT = 2;
  static final int EACCES = 13;
  static final int ENOTDIR = 20;
  static final int ERANGE = 34;
  static final int ENODATA = 61;
  static final int EOPNOTSUPP = 95;

  private static final Linker LINKER = Linker.nativeLinker();
  private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final MethodHandle STRERROR =
      LINKER.downcallHandle(
          LINKER.defaultLookup().findOrThrow("strerror"), FunctionDescriptor.of(ADDRESS, JAVA_INT));

  private ErrnoCalls() {}

  /** A downcall whose first argument is the segment {@link #callState} allocates. */
  static MethodHandle function(String name, FunctionDescriptor descriptor) {
    return LINKER.downcallHandle(
        LINKER.defaultLookup().findOrThrow(name),
        descriptor,
        Linker.Option.captureCallState("errno"));
  }

  static MemorySegment callState(Arena arena) {
    return arena.allocate(CALL_STATE);
  }

  static int errno(MemorySegment callState) {
    return (int) ERRNO.get(callState, 0L);
  }

  /** A NUL-terminated copy of the path's bytes (UTF-8, as the JDK writes file names here). */
  static MemorySegment path(Arena arena, Path path) {
    return arena.allocateFrom(path.toString(), StandardCharsets.UTF_8);
  }

  static String strerror(int errno) {
    try {
      MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
      return text.equals(MemorySegment.NULL)
          ? "errno " + errno
          : text.reinterpret(4096).getString(0, StandardCharsets.UTF_8);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  /** The exception for {@code call} failing on {@code path} with {@code errno}. */
  static IOException failure(String call, @Nullable Path path, int errno) {
    String file = path == null ? null : path.toString();
    String reason = call + ": " + strerror(errno);
    return switch (errno) {
      case ENOENT -> new NoSuchFileException(file, null, reason);
      case EACCES, EPERM -> new AccessDeniedException(file, null, reason);
      case ENOTDIR -> new NotDirectoryException(file == null ? reason : file);
      default ->
          file == null ? new IOException(reason) : new FileSystemException(file, null, reason);
    };
  }
}
