package dev.sbx.envd.http;

import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.sbx.envd.SandboxSettings;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * The one handler in front of every envd path. In order: CORS (a preflight is answered here), the
 * access token (when {@code /init} set one, every request must carry it in {@code X-Access-Token},
 * except the open routes: {@code GET /health}, {@code GET /files}, {@code POST /files}, {@code POST
 * /init}), then the route: the Connect RPC prefixes go to the RPC handler, the plain routes to
 * theirs; an unknown path is 404 and a known path with another method 405. A handler that throws
 * {@link HttpStatusException} gets that status as envd's JSON error; anything else is a 500.
 */
public final class EnvdRouter implements HttpHandler {
  private static final Logger LOG = System.getLogger(EnvdRouter.class.getName());

  /** The path prefixes of the Connect RPC services. */
  public static final List<String> RPC_PREFIXES =
      List.of("/process.Process/", "/filesystem.Filesystem/");

  static final String UNAUTHORIZED =
      "unauthorized access, please provide a valid access token or method signing if supported";

  private record Route(HttpHandler handler, boolean open) {}

  private final SandboxSettings settings;
  private final Map<String, Map<String, Route>> routes;
  private final @Nullable HttpHandler rpc;

  private EnvdRouter(Builder builder) {
    this.settings = builder.settings;
    Map<String, Map<String, Route>> copy = new LinkedHashMap<>();
    builder.routes.forEach((path, byMethod) -> copy.put(path, Map.copyOf(byMethod)));
    this.routes = Map.copyOf(copy);
    this.rpc = builder.rpc;
  }

  public static Builder builder(SandboxSettings settings) {
    return new Builder(requireNonNull(settings, "settings"));
  }

  /** Builds an {@link EnvdRouter}. */
  public static final class Builder {
    private final SandboxSettings settings;
    private final Map<String, Map<String, Route>> routes = new LinkedHashMap<>();
    private @Nullable HttpHandler rpc;

    private Builder(SandboxSettings settings) {
      this.settings = settings;
    }

    /** A route that needs the access token when one is set. */
    public Builder route(String method, String path, HttpHandler handler) {
      return add(method, path, handler, false);
    }

    /** A route that is reachable without the access token (it checks access itself, if at all). */
    public Builder openRoute(String method, String path, HttpHandler handler) {
      return add(method, path, handler, true);
    }

    /** The handler of the Connect RPC paths ({@link #RPC_PREFIXES}); they need the token. */
    public Builder rpc(HttpHandler handler) {
      this.rpc = requireNonNull(handler, "handler");
      return this;
    }

    public EnvdRouter build() {
      return new EnvdRouter(this);
    }

    private Builder add(String method, String path, HttpHandler handler, boolean open) {
      requireNonNull(method, "method");
      requireNonNull(path, "path");
      requireNonNull(handler, "handler");
      Route previous =
          routes
              .computeIfAbsent(path, p -> new LinkedHashMap<>())
              .putIfAbsent(method, new Route(handler, open));
      if (previous != null) {
        throw new IllegalArgumentException("route " + method + " " + path + " added twice");
      }
      return this;
    }
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    boolean handedOver = false;
    try {
      if (Cors.apply(exchange)) {
        return;
      }
      String method = exchange.getRequestMethod();
      String rawPath = exchange.getRequestURI().getRawPath();
      String path = rawPath == null ? "" : rawPath;
      Map<String, Route> byMethod = routes.get(path);
      Route route = byMethod == null ? null : byMethod.get(method);
      if (!(route != null && route.open()) && !authorized(exchange)) {
        throw new HttpStatusException(401, UNAUTHORIZED);
      }
      if (rpc != null && isRpcPath(path)) {
        handedOver = true;
        rpc.handle(exchange);
        return;
      }
      if (byMethod == null) {
        throw new HttpStatusException(404, "no route for " + method + " " + path);
      }
      if (route == null) {
        exchange
            .getResponseHeaders()
            .set("Allow", String.join(", ", new TreeSet<>(byMethod.keySet())));
        throw new HttpStatusException(405, "method " + method + " is not allowed on " + path);
      }
      route.handler().handle(exchange);
    } catch (HttpStatusException e) {
      replyError(exchange, e.status(), e.getMessage(), e);
    } catch (IOException | RuntimeException e) {
      replyError(exchange, 500, String.valueOf(e.getMessage()), e);
    } finally {
      if (!handedOver) {
        exchange.close();
      }
    }
  }

  private boolean authorized(HttpExchange exchange) {
    Optional<String> token = settings.accessToken();
    return token.isEmpty()
        || AccessTokens.matches(
            token.get(), exchange.getRequestHeaders().getFirst(AccessTokens.HEADER));
  }

  private static boolean isRpcPath(String path) {
    for (String prefix : RPC_PREFIXES) {
      if (path.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  private static void replyError(HttpExchange exchange, int status, String message, Exception e) {
    String request = exchange.getRequestMethod() + " " + exchange.getRequestURI().getRawPath();
    if (status >= 500) {
      LOG.log(Level.WARNING, "{0} failed: {1}", request, e.toString(), e);
    } else {
      LOG.log(Level.DEBUG, "{0}: {1} {2}", request, status, message);
    }
    if (exchange.getResponseCode() != -1) {
      return; // the reply has begun; the connection is closed to show the failure
    }
    try {
      JsonResponses.sendError(exchange, status, message);
    } catch (IOException | RuntimeException sendFailure) {
      LOG.log(Level.DEBUG, "could not send the error of {0}: {1}", request, sendFailure);
    }
  }
}
