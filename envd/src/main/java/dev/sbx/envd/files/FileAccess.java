package dev.sbx.envd.files;

import com.sun.net.httpserver.HttpExchange;
import dev.sbx.envd.SandboxSettings;
import dev.sbx.envd.files.UrlSignature.Operation;
import dev.sbx.envd.http.AccessTokens;
import dev.sbx.envd.http.HttpStatusException;
import dev.sbx.envd.http.QueryParameters;
import dev.sbx.envd.user.PathResolver;
import dev.sbx.envd.user.RequestUsers;
import dev.sbx.envd.user.SandboxUser;
import dev.sbx.envd.user.UnknownUserException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Who may use {@code /files}, as whom, on which path. The routes are open in the router; here, when
 * an access token is set, the request needs it in {@code X-Access-Token} (a wrong one is refused,
 * not ignored) or a valid, unexpired URL signature for the operation; without a token everything is
 * open. The user is the {@code username} query parameter, else the one of a Basic {@code
 * Authorization} header, else the default user; an unknown user is 401.
 */
final class FileAccess {
  private final SandboxSettings settings;
  private final RequestUsers users;
  private final Clock clock;

  FileAccess(SandboxSettings settings, RequestUsers users, Clock clock) {
    this.settings = settings;
    this.users = users;
    this.clock = clock;
  }

  /** The request's query, after checking that the request may perform {@code operation}. */
  QueryParameters authorize(HttpExchange exchange, Operation operation) {
    QueryParameters query = QueryParameters.of(exchange.getRequestURI());
    Optional<String> token = settings.accessToken();
    if (token.isEmpty()) {
      return query;
    }
    String header = exchange.getRequestHeaders().getFirst(AccessTokens.HEADER);
    if (header != null && !header.isEmpty()) {
      if (!AccessTokens.matches(token.get(), header)) {
        throw new HttpStatusException(401, "access token present in header but does not match");
      }
      return query;
    }
    String signature = query.get("signature");
    if (signature == null) {
      throw new HttpStatusException(401, "missing signature query parameter");
    }
    Long expiration = expiration(query);
    String path = query.get("path");
    String username = query.get("username");
    String expected =
        UrlSignature.sign(
            path == null ? "" : path,
            operation,
            username == null ? "" : username,
            token.get(),
            expiration);
    if (!AccessTokens.matches(expected, signature)) {
      throw new HttpStatusException(401, "invalid signature");
    }
    if (expiration != null && expiration < clock.instant().getEpochSecond()) {
      throw new HttpStatusException(401, "signature is already expired");
    }
    return query;
  }

  /** The user the request acts as. */
  SandboxUser user(HttpExchange exchange, QueryParameters query) {
    String username = query.get("username");
    try {
      if (username != null && !username.isEmpty()) {
        return users.byName(username);
      }
      return users.fromAuthorization(exchange.getRequestHeaders().getFirst("Authorization"));
    } catch (UnknownUserException e) {
      throw new HttpStatusException(
          401, "error looking up user '" + e.username() + "': " + e.getMessage(), e);
    }
  }

  /** {@code path} resolved by E2B's rules for {@code user}. */
  Path resolve(String path, SandboxUser user) {
    try {
      return PathResolver.resolve(path, user, settings.current().defaultWorkdir());
    } catch (IllegalArgumentException e) {
      throw new HttpStatusException(
          400, "error expanding and resolving path '" + path + "': " + e.getMessage(), e);
    }
  }

  private static @Nullable Long expiration(QueryParameters query) {
    String text = query.get("signature_expiration");
    if (text == null) {
      return null;
    }
    try {
      return Long.parseLong(text.trim());
    } catch (NumberFormatException e) {
      throw new HttpStatusException(
          400, "Invalid format for parameter signature_expiration: '" + text + "'", e);
    }
  }
}
