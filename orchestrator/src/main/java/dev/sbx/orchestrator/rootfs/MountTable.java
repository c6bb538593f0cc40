package dev.sbx.orchestrator.rootfs;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The mount points of this process's mount namespace, from {@code /proc/self/mountinfo}. */
public final class MountTable {
  private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

  private MountTable() {}

  /** Every mount point, in mount order. */
  public static List<Path> mountPoints() {
    List<String> lines;
    try {
      lines = Files.readAllLines(MOUNTINFO);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<Path> points = new ArrayList<>(lines.size());
    for (String line : lines) {
      // "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw": the 5th field
      String[] fields = line.split(" ", 6);
      if (fields.length >= 5) {
        points.add(Path.of(unescape(fields[4])));
      }
    }
    return points;
  }

  /** The mount points at or below {@code dir} (absolute, normalized), deepest last. */
  public static List<Path> mountPointsUnder(Path dir) {
    requireNonNull(dir, "dir");
    Path base = dir.toAbsolutePath().normalize();
    return mountPoints().stream().filter(p -> p.startsWith(base)).toList();
  }

  /** Whether {@code path} is a mount point. */
  public static boolean isMountPoint(Path path) {
    requireNonNull(path, "path");
    return mountPoints().contains(path.toAbsolutePath().normalize());
  }

  /**
   * Unmounts every mount at or below {@code dir}, deepest first; a mount that is still busy is
   * detached (lazy unmount). Does nothing if nothing is mounted there.
   */
  public static void unmountBelow(Path dir) {
    List<Path> points = mountPointsUnder(dir);
    for (Path point : points.reversed()) {
      try {
        MountSyscalls.umount2(point, 0);
      } catch (MountSyscalls.ErrnoException e) {
        if (e.errno() == MountSyscalls.EINVAL) {
          continue; // no longer a mount point: already gone
        }
        if (e.errno() != MountSyscalls.EBUSY) {
          throw new UncheckedIOException(e);
        }
        try {
          MountSyscalls.umount2(point, MountSyscalls.MNT_DETACH);
        } catch (MountSyscalls.ErrnoException detachFailure) {
          throw new UncheckedIOException(detachFailure);
        }
      }
    }
  }

  /** mountinfo writes space, tab, newline and backslash as {@code \ooo} octal escapes. */
  static String unescape(String field) {
    if (field.indexOf('\\') < 0) {
      return field;
    }
    StringBuilder out = new StringBuilder(field.length());
    for (int i = 0; i < field.length(); i++) {
      char c = field.charAt(i);
      if (c == '\\' && isOctal(field, i + 1)) {
        out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  private static boolean isOctal(String s, int from) {
    if (from + 3 > s.length()) {
      return false;
    }
    for (int i = from; i < from + 3; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '7') {
        return false;
      }
    }
    return true;
  }
}
