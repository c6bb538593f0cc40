package dev.sbx.cli.output;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The controlling terminal, through {@code /proc/self/fd} and {@code stty} on {@code /dev/tty}: is
 * a standard stream a terminal, its size, raw mode and back.
 */
public final class Terminal {
  private static final File TTY = new File("/dev/tty");

  private Terminal() {}

  /** Whether file descriptor {@code fd} (0, 1, 2) of this process is a terminal. */
  public static boolean isTerminal(int fd) {
    try {
      String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
      return isTerminalDevice(target);
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  /** Whether a device path names a terminal ({@code /dev/pts/N}, {@code /dev/ttyN}, console). */
  public static boolean isTerminalDevice(String path) {
    return path.startsWith("/dev/pts/")
        || path.startsWith("/dev/tty")
        || path.equals("/dev/console");
  }

  /**
   * The size of the controlling terminal as {@code {rows, columns}}, or null when there is none.
   */
  public static int @Nullable [] size() {
    String out = stty("size");
    if (out == null) {
      return null;
    }
    return parseSize(out);
  }

  /** {@code stty size}'s answer ({@code "rows cols"}) as {@code {rows, cols}}, or null. */
  public static int @Nullable [] parseSize(String sttySize) {
    String[] parts = sttySize.strip().split("\\s+");
    if (parts.length != 2) {
      return null;
    }
    try {
      int rows = Integer.parseInt(parts[0]);
      int cols = Integer.parseInt(parts[1]);
      return rows > 0 && cols > 0 ? new int[] {rows, cols} : null;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** The width of the controlling terminal, else {@code COLUMNS}, else 80. */
  public static int width() {
    int[] size = size();
    if (size != null) {
      return size[1];
    }
    String columns = System.getenv("COLUMNS");
    if (columns != null) {
      try {
        int parsed = Integer.parseInt(columns.strip());
        if (parsed > 0) {
          return parsed;
        }
      } catch (NumberFormatException e) {
        // fall through
      }
    }
    return 80;
  }

  /**
   * Puts the controlling terminal into raw mode without echo and returns the settings to restore
   * ({@code stty -g}), or null when there is no terminal.
   */
  public static @Nullable String enterRawMode() {
    String saved = stty("-g");
    if (saved == null) {
      return null;
    }
    if (stty("raw", "-echo") == null) {
      return null;
    }
    return saved.strip();
  }

  /** Restores settings from {@link #enterRawMode()}. */
  public static void restore(String saved) {
    stty(saved);
  }

  /** Runs {@code stty args} on {@code /dev/tty}; its stdout, or null when it failed. */
  private static @Nullable String stty(String... args) {
    if (!TTY.exists()) {
      return null;
    }
    List<String> command = new java.util.ArrayList<>();
    command.add("stty");
    command.addAll(List.of(args));
    try {
      Process process =
          new ProcessBuilder(command)
              .redirectInput(ProcessBuilder.Redirect.from(TTY))
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return null;
      }
      return process.exitValue() == 0 ? out : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }
}
