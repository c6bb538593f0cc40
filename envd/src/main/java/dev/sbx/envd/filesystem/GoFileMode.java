package dev.sbx.envd.filesystem;

/**
 * Go's {@code os.FileMode} text for a Unix {@code st_mode}, as E2B's envd reports it in {@code
 * EntryInfo.permissions}: one letter per type or special bit in Go's order {@code "dalTLDpSugct?"}
 * (or {@code -} when there is none), then {@code rwxrwxrwx}. Examples: {@code -rw-r--r--}, {@code
 * drwxr-xr-x}, {@code Lrwxrwxrwx}, {@code urwxr-xr-x} (setuid), {@code dtrwxrwxrwx} (sticky
 * directory), {@code Dcrw-rw-rw-} (character device).
 */
public final class GoFileMode {
  private static final int S_IFMT = 0170000;
  private static final int S_IFSOCK = 0140000;
  private static final int S_IFLNK = 0120000;
  private static final int S_IFBLK = 0060000;
  private static final int S_IFDIR = 0040000;
  private static final int S_IFCHR = 0020000;
  private static final int S_IFIFO = 0010000;
  private static final int S_ISUID = 04000;
  private static final int S_ISGID = 02000;
  private static final int S_ISVTX = 01000;

  private GoFileMode() {}

  /** The text of {@code unixMode} (type bits, set-id and sticky bits, permissions). */
  public static String text(int unixMode) {
    int type = unixMode & S_IFMT;
    StringBuilder text = new StringBuilder(12);
    // Go's letters in Go's order: d a l T L D p S u g c t ?; a, l and T never occur on Linux.
    append(text, type == S_IFDIR, 'd');
    append(text, type == S_IFLNK, 'L');
    append(text, type == S_IFBLK || type == S_IFCHR, 'D');
    append(text, type == S_IFIFO, 'p');
    append(text, type == S_IFSOCK, 'S');
    append(text, (unixMode & S_ISUID) != 0, 'u');
    append(text, (unixMode & S_ISGID) != 0, 'g');
    append(text, type == S_IFCHR, 'c');
    append(text, (unixMode & S_ISVTX) != 0, 't');
    if (text.isEmpty()) {
      text.append('-');
    }
    String rwx = "rwxrwxrwx";
    for (int i = 0; i < 9; i++) {
      text.append((unixMode & (1 << (8 - i))) != 0 ? rwx.charAt(i) : '-');
    }
    return text.toString();
  }

  /** Whether {@code unixMode} is a directory. */
  static boolean isDirectory(int unixMode) {
    return (unixMode & S_IFMT) == S_IFDIR;
  }

  /** Whether {@code unixMode} is a symbolic link. */
  static boolean isSymlink(int unixMode) {
    return (unixMode & S_IFMT) == S_IFLNK;
  }

  /** Whether {@code unixMode} is a regular file. */
  static boolean isRegular(int unixMode) {
    return (unixMode & S_IFMT) == 0100000;
  }

  private static void append(StringBuilder text, boolean set, char letter) {
    if (set) {
      text.append(letter);
    }
  }
}
