package dev.sbx.envd.http;

import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;

/** {@code GET /metrics}: the sandbox's CPU, memory and disk use (see {@link SystemMetrics}). */
public final class MetricsRoute implements HttpHandler {
  private final SystemMetrics metrics;

  public MetricsRoute(SystemMetrics metrics) {
    this.metrics = requireNonNull(metrics, "metrics");
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    JsonResponses.send(exchange, 200, metrics.read().toJson());
  }
}
