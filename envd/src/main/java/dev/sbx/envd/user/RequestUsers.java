package dev.sbx.envd.user;

import dev.sbx.envd.SandboxSettings;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Which user a request acts as: the one named by {@code Authorization: Basic base64("<user>:")}
 * (RPC) or a {@code username} query parameter ({@code /files}), otherwise the sandbox's default
 * user.
 */
public final class RequestUsers {
  private final UserDirectory directory;
  private final SandboxSettings settings;

  public RequestUsers(UserDirectory directory, SandboxSettings settings) {
    this.directory = directory;
    this.settings = settings;
  }

  public UserDirectory directory() {
    return directory;
  }

  /**
   * The user named by an {@code Authorization} header, or the default user when there is none.
   *
   * @throws UnknownUserException when the header names no user of this sandbox, or is malformed
   */
  public SandboxUser fromAuthorization(@Nullable String authorization) {
    return byName(usernameFromBasicAuth(authorization));
  }

  /**
   * The user of that name; the default user when the name is {@code null} or empty.
   *
   * @throws UnknownUserException when the sandbox has no such user
   */
  public SandboxUser byName(@Nullable String username) {
    String name =
        username == null || username.isEmpty() ? settings.current().defaultUser() : username;
    return directory.byName(name).orElseThrow(() -> new UnknownUserException(name));
  }

  /**
   * The user name of a Basic {@code Authorization} header ({@code null} when there is no header).
   *
   * @throws UnknownUserException when the header is not valid Basic auth
   */
  static @Nullable String usernameFromBasicAuth(@Nullable String authorization) {
    if (authorization == null || authorization.isBlank()) {
      return null;
    }
    String value = authorization.strip();
    if (!value.toLowerCase(Locale.ROOT).startsWith("basic ")) {
      throw new UnknownUserException(value);
    }
    String decoded;
    try {
      decoded =
          new String(
              Base64.getDecoder().decode(value.substring(6).strip()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new UnknownUserException(value.substring(6).strip());
    }
    int colon = decoded.indexOf(':');
    return colon < 0 ? decoded : decoded.substring(0, colon);
  }
}
