package dev.sbx.envd.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
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
import java.util.Optional;

/**
 * File calls the JDK has no (safe) equivalent for: the filesystem type of a path ({@code
 * statfs(2)}) and extended attributes read by path ({@code listxattr(2)}/{@code getxattr(2)}, which
 * follow symlinks and, unlike the JDK's attribute view, never open the file, so a FIFO or a device
 * cannot block or react).
 */
public final class LinuxFiles {
  /** {@code sizeof(struct statfs)} is 120 on x86_64 and aarch64; room to spare. */
  private static final long STATFS_SIZE = 256;

  private static final MethodHandle STATFS =
      Libc.withErrno("statfs", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
  private static final MethodHandle LISTXATTR =
      Libc.withErrno("listxattr", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));
  private static final MethodHandle GETXATTR =
      Libc.withErrno(
          "getxattr", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));

  private LinuxFiles() {}

  /** The {@code f_type} magic number of the filesystem {@code path} is on (follows symlinks). */
  public static long filesystemType(Path path) throws IOException {
    requireNonNull(path, "path");
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buf = arena.allocate(STATFS_SIZE, 8);
      int result = (int) STATFS.invokeExact(Libc.callState(), Libc.path(arena, path), buf);
      if (result != 0) {
        throw Libc.failure("statfs", path, Libc.errno());
      }
      // f_type (__fsword_t, a long) is the first field.
      return buf.get(JAVA_LONG, 0);
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  /**
   * The names of the extended attributes of {@code path} (symlinks followed). Empty when the
   * filesystem does not support extended attributes.
   */
  public static List<String> listAttributes(Path path) throws IOException {
    requireNonNull(path, "path");
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment name = Libc.path(arena, path);
      while (true) {
        long size = (long) LISTXATTR.invokeExact(Libc.callState(), name, MemorySegment.NULL, 0L);
        if (size < 0) {
          int errno = Libc.errno();
          if (errno == Syscalls.EOPNOTSUPP) {
            return List.of();
          }
          throw Libc.failure("listxattr", path, errno);
        }
        if (size == 0) {
          return List.of();
        }
        MemorySegment list = arena.allocate(size);
        long got = (long) LISTXATTR.invokeExact(Libc.callState(), name, list, size);
        if (got < 0) {
          int errno = Libc.errno();
          if (errno == Syscalls.ERANGE) {
            continue; // grew in between
          }
          if (errno == Syscalls.EOPNOTSUPP) {
            return List.of();
          }
          throw Libc.failure("listxattr", path, errno);
        }
        return splitNames(list.asSlice(0, got).toArray(JAVA_BYTE));
      }
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  /**
   * The value of one extended attribute of {@code path} (symlinks followed); empty when the
   * attribute does not exist (any more) or the filesystem does not support extended attributes.
   */
  public static Optional<byte[]> getAttribute(Path path, String attribute) throws IOException {
    requireNonNull(path, "path");
    requireNonNull(attribute, "attribute");
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment name = Libc.path(arena, path);
      MemorySegment key = arena.allocateFrom(attribute, StandardCharsets.UTF_8);
      while (true) {
        long size =
            (long) GETXATTR.invokeExact(Libc.callState(), name, key, MemorySegment.NULL, 0L);
        if (size < 0) {
          int errno = Libc.errno();
          if (errno == Syscalls.ENODATA || errno == Syscalls.EOPNOTSUPP) {
            return Optional.empty();
          }
          throw Libc.failure("getxattr", path, errno);
        }
        if (size == 0) {
          return Optional.of(new byte[0]);
        }
        MemorySegment value = arena.allocate(size);
        long got = (long) GETXATTR.invokeExact(Libc.callState(), name, key, value, size);
        if (got < 0) {
          int errno = Libc.errno();
          if (errno == Syscalls.ERANGE) {
            continue;
          }
          if (errno == Syscalls.ENODATA || errno == Syscalls.EOPNOTSUPP) {
            return Optional.empty();
          }
          throw Libc.failure("getxattr", path, errno);
        }
        return Optional.of(value.asSlice(0, got).toArray(JAVA_BYTE));
      }
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  private static List<String> splitNames(byte[] list) {
    List<String> names = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < list.length; i++) {
      if (list[i] == 0) {
        if (i > start) {
          names.add(new String(list, start, i - start, StandardCharsets.UTF_8));
        }
        start = i + 1;
      }
    }
    return names;
  }
}
