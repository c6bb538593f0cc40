package dev.sbx.envd.user;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Creates files and directories owned by a sandbox user. envd runs as root, but what a user's
 * request creates must belong to that user, as E2B's envd does it.
 */
public final class OwnedPaths {
  private OwnedPaths() {}

  /**
   * Creates {@code dir} and its missing parents; each directory created here is given to {@code
   * user}. Existing directories keep their owner.
   *
   * @throws FileAlreadyExistsException when {@code dir} or a parent exists and is not a directory
   */
  public static void createDirectories(Path dir, SandboxUser user) throws IOException {
    Deque<Path> missing = new ArrayDeque<>();
    for (Path p = dir.toAbsolutePath().normalize(); p != null; p = p.getParent()) {
      if (Files.isDirectory(p)) {
        break;
      }
      if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
        if (Files.isDirectory(p)) {
          break; // a concurrent request made it between the two checks
        }
        throw new FileAlreadyExistsException(p.toString(), null, "exists and is not a directory");
      }
      missing.push(p);
    }
    while (!missing.isEmpty()) {
      Path p = missing.pop();
      try {
        Files.createDirectory(p);
        chown(p, user);
      } catch (FileAlreadyExistsException e) {
        if (!Files.isDirectory(p)) {
          throw e;
        }
      }
    }
  }

  /** Gives {@code path} (not a symlink's target) to {@code user} and the user's primary group. */
  public static void chown(Path path, SandboxUser user) throws IOException {
    Files.setAttribute(path, "unix:uid", user.uid(), LinkOption.NOFOLLOW_LINKS);
    Files.setAttribute(path, "unix:gid", user.gid(), LinkOption.NOFOLLOW_LINKS);
  }
}
