package dev.sbx.api.sandbox;

import dev.sbx.api.http.ApiException;
import io.vertx.core.json.JsonObject;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * {@code network.maskRequestHost} of a create request: the Host a sandbox's own servers see instead
 * of {@code <port>-<id>.<domain>} (the client proxy applies it to every port but envd's). An ASCII
 * host with an optional port, in which {@code ${PORT}} stands for the port the request was for.
 */
final class MaskRequestHost {

  /** What the client proxy replaces by the port. */
  static final String PORT_PLACEHOLDER = "${PORT}";

  private static final int MAX_LENGTH = 255;

  // a DNS name (labels of letters, digits, '-' and '_'), an IPv4 address or a bracketed IPv6
  // address, then an optional decimal port; checked with ${PORT} replaced by a port
  private static final Pattern AUTHORITY =
      Pattern.compile(
          "(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\\.?"
              + "|\\[[0-9A-Fa-f:.]+])"
              + "(?::[0-9]{1,5})?");

  private MaskRequestHost() {}

  /**
   * The value as given, checked.
   *
   * @throws ApiException 400 when it is not a string, empty, not ASCII, too long, or not a host
   *     with an optional port
   */
  static String check(@Nullable Object value) {
    if (!(value instanceof String mask)) {
      throw ApiException.badRequest("network.maskRequestHost must be a string");
    }
    if (mask.isEmpty()) {
      throw ApiException.badRequest("network.maskRequestHost must not be empty");
    }
    if (mask.length() > MAX_LENGTH) {
      throw ApiException.badRequest(
          "network.maskRequestHost must be at most " + MAX_LENGTH + " characters");
    }
    if (!mask.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      throw ApiException.badRequest(
          "network.maskRequestHost must be ASCII without spaces or control characters");
    }
    String sample = mask.replace(PORT_PLACEHOLDER, "65535");
    if (!AUTHORITY.matcher(sample).matches() || !portInRange(sample)) {
      throw ApiException.badRequest(
          "network.maskRequestHost '"
              + mask
              + "' is not a host with an optional port (it may contain "
              + PORT_PLACEHOLDER
              + ")");
    }
    return mask;
  }

  /** The mask of a stored {@code network} object, or null when it has none. */
  static @Nullable String of(@Nullable String networkJson) {
    if (networkJson == null) {
      return null;
    }
    Object value = new JsonObject(networkJson).getValue("maskRequestHost");
    return value instanceof String mask && !mask.isEmpty() ? mask : null;
  }

  private static boolean portInRange(String authority) {
    int bracket = authority.lastIndexOf(']');
    int colon = authority.lastIndexOf(':');
    if (colon < 0 || colon < bracket) {
      return true;
    }
    int port = Integer.parseInt(authority.substring(colon + 1));
    return port >= 1 && port <= 65535;
  }
}
