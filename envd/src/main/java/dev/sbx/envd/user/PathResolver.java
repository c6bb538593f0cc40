package dev.sbx.envd.user;

import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * E2B's path rules: an empty path is the default workdir (the home directory when none is set); a
 * leading {@code ~} or {@code ~/} is the user's home ({@code ~otheruser} is rejected); a relative
 * path is relative to the home directory; an absolute path stays. The result is normalized.
 */
public final class PathResolver {
  private PathResolver() {}

  /**
   * Resolves {@code path} for {@code user}.
   *
   * @throws IllegalArgumentException for a path envd does not accept, with a message for the client
   */
  public static Path resolve(String path, SandboxUser user, @Nullable String defaultWorkdir) {
    if (path.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("path '" + path + "' contains a NUL character");
    }
    Path home = user.home();
    if (path.isEmpty()) {
      return defaultWorkdir == null || defaultWorkdir.isEmpty()
          ? home.normalize()
          : home.resolve(defaultWorkdir).normalize();
    }
    if (path.startsWith("~")) {
      if (path.equals("~")) {
        return home.normalize();
      }
      if (!path.startsWith("~/")) {
        throw new IllegalArgumentException(
            "path '" + path + "' refers to another user's home, which is not supported");
      }
      return home.resolve(path.substring(2)).normalize();
    }
    return home.resolve(path).normalize();
  }
}
