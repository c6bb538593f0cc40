package dev.sbx.envd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The file descriptors this JVM has open ({@code /proc/self/fd}), to check that none leak. */
public final class OpenDescriptors {
  private OpenDescriptors() {}

  public static long count() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    }
  }
}
