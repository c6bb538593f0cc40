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
import java.lang.foreign.SymbolLookup;
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
 * The binding to the C library that every class of this package uses: downcall handles, the capture
 * of {@code errno} (one call-state segment per thread), its text ({@code strerror}) and the
 * translation of a failed call into an exception: {@link ErrnoException} by {@link #check}, or the
 * {@link IOException} the JDK would throw for a file ({@code ENOENT} → {@link NoSuchFileException},
 * ...) by {@link #failure}.
 */
@SuppressWarnings("restricted") // Binding the C library is what this class is for.
final class Libc {
  private static final Linker LINKER = Linker.nativeLinker();
  private static final SymbolLookup LOOKUP = LINKER.defaultLookup();
  private static final StructLayout CALL_STATE_LAYOUT = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CALL_STATE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final ThreadLocal<MemorySegment> CALL_STATE =
      ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CALL_STATE_LAYOUT));
  private static final MethodHandle STRERROR =
      plain("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));

  private Libc() {}

  /**
   * A downcall that captures {@code errno}: its first argument is {@link #callState()}, and {@link
   * #errno()} reads what the call left there.
   */
  static MethodHandle withErrno(
      String name, FunctionDescriptor descriptor, Linker.Option... extra) {
    Linker.Option[] options = new Linker.Option[extra.length + 1];
    options[0] = Linker.Option.captureCallState("errno");
    System.arraycopy(extra, 0, options, 1, extra.length);
    return LINKER.downcallHandle(symbol(name), descriptor, options);
  }

  /** A downcall for a function that returns its error number instead of setting {@code errno}. */
  static MethodHandle plain(String name, FunctionDescriptor descriptor) {
    return LINKER.downcallHandle(symbol(name), descriptor);
  }

  /** {@link #plain}, or null when this C library has no such function. */
  static @Nullable MethodHandle optionalPlain(String name, FunctionDescriptor descriptor) {
    return LOOKUP.find(name).isPresent() ? plain(name, descriptor) : null;
  }

  /** This thread's call-state segment, the first argument of every {@link #withErrno} handle. */
  static MemorySegment callState() {
    return CALL_STATE.get();
  }

  /** The {@code errno} of this thread's last {@link #withErrno} call. */
  static int errno() {
    return (int) ERRNO.get(CALL_STATE.get(), 0L);
  }

  /** {@code rc}, or an {@link ErrnoException} for {@code call} when it is negative. */
  static int check(String call, int rc) throws ErrnoException {
    if (rc < 0) {
      throw new ErrnoException(call, errno());
    }
    return rc;
  }

  /** The C library's text for an error number. */
  static String strerror(int errno) {
    MemorySegment text;
    try {
      text = (MemorySegment) STRERROR.invokeExact(errno);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
    return text.equals(MemorySegment.NULL)
        ? "errno " + errno
        : text.reinterpret(4096).getString(0, StandardCharsets.UTF_8);
  }

  /**
   * The exception for {@code call} failing on {@code path} with {@code errno}, of the type the JDK
   * uses for it; an {@link ErrnoException} when no path is involved and no such type fits.
   */
  static IOException failure(String call, @Nullable Path path, int errno) {
    String file = path == null ? null : path.toString();
    String reason = call + ": " + strerror(errno);
    return switch (errno) {
      case Syscalls.ENOENT -> new NoSuchFileException(file, null, reason);
      case Syscalls.EACCES, Syscalls.EPERM -> new AccessDeniedException(file, null, reason);
      case Syscalls.ENOTDIR -> new NotDirectoryException(file == null ? reason : file);
      default ->
          file == null
              ? new ErrnoException(call, errno)
              : new FileSystemException(file, null, reason);
    };
  }

  /** A NUL-terminated copy of the path's bytes (UTF-8, as the JDK writes file names here). */
  static MemorySegment path(Arena arena, Path path) {
    return arena.allocateFrom(path.toString(), StandardCharsets.UTF_8);
  }

  private static MemorySegment symbol(String name) {
    return LOOKUP
        .find(name)
        .orElseThrow(() -> new UnsatisfiedLinkError("the C library has no " + name));
  }
}
