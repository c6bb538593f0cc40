package dev.sbx.envd.http;

import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;

/**
 * {@code GET /_sbx/logs?limit=N}: envd's newest log records (see {@link LogRing}), oldest first;
 * {@code limit} 1 to the ring's capacity, default all. Not part of E2B's envd: sbx's API reads it
 * through the node proxy to fill a sandbox's {@code /logs}. Like {@code /metrics} it is reachable
 * through the client proxy too, and like every route but the open ones it needs the access token
 * when one is set (the log holds no secrets: {@code /init} logs counts, not values).
 */
public final class LogRoute implements HttpHandler {
  /** The path. */
  public static final String PATH = "/_sbx/logs";

  private final LogRing ring;

  public LogRoute(LogRing ring) {
    this.ring = requireNonNull(ring, "ring");
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    int limit = ring.capacity();
    String raw = QueryParameters.of(exchange.getRequestURI()).get("limit");
    if (raw != null) {
      try {
        limit = Integer.parseInt(raw);
      } catch (NumberFormatException e) {
        throw new HttpStatusException(400, "limit must be an integer");
      }
      if (limit < 1 || limit > ring.capacity()) {
        throw new HttpStatusException(400, "limit must be between 1 and " + ring.capacity());
      }
    }
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    JsonResponses.send(exchange, 200, ring.toJson(limit));
  }
}
