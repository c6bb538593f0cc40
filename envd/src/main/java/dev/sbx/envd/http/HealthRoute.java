package dev.sbx.envd.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;

/** {@code GET /health}: 204 with {@code Cache-Control: no-store}; open to everyone. */
public final class HealthRoute implements HttpHandler {
  @Override
  public void handle(HttpExchange exchange) throws IOException {
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    exchange.sendResponseHeaders(204, -1);
  }
}
