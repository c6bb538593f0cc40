package dev.sbx.proxy.routing;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Set;

/**
 * envd's control-plane paths that only the orchestrator may call ({@code /init}, {@code /freeze}
 * …): the proxy refuses them on port 49983, judged on the percent-decoded, cleaned path so that
 * {@code //init}, {@code /files/../init} or {@code /%69nit} are caught as well.
 */
public final class EnvdControlRoutes {

  /** envd's port inside every sandbox. */
  public static final int ENVD_PORT = 49983;

  private static final Set<String> CONTROL_PATHS =
      Set.of("/init", "/freeze", "/unfreeze", "/collapse", "/fsfreeze", "/fsthaw", "/upgrade");

  private EnvdControlRoutes() {}

  /**
   * Whether a request for {@code rawPath} (as sent, without the query) on {@code port} is refused.
   */
  public static boolean isBlocked(int port, String rawPath) {
    requireNonNull(rawPath, "rawPath");
    return port == ENVD_PORT && CONTROL_PATHS.contains(clean(decode(rawPath)));
  }

  /**
   * Lexically cleans a path as Go's {@code path.Clean} does for rooted paths: one slash between
   * elements, no {@code .}, {@code ..} resolved (never above the root), no trailing slash.
   */
  static String clean(String path) {
    Deque<String> elements = new ArrayDeque<>();
    for (String element : path.split("/", -1)) {
      if (element.isEmpty() || element.equals(".")) {
        continue;
      }
      if (element.equals("..")) {
        elements.pollLast();
      } else {
        elements.addLast(element);
      }
    }
    return "/" + String.join("/", elements);
  }

  /** Decodes {@code %XX} escapes (UTF-8); a malformed escape is kept as it is. */
  static String decode(String path) {
    if (path.indexOf('%') < 0) {
      return path;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(path.length());
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c == '%' && i + 2 < path.length()) {
        int high = Character.digit(path.charAt(i + 1), 16);
        int low = Character.digit(path.charAt(i + 2), 16);
        if (high >= 0 && low >= 0) {
          bytes.write(high * 16 + low);
          i += 2;
          continue;
        }
      }
      byte[] encoded = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
      bytes.write(encoded, 0, encoded.length);
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }
}
