package dev.sbx.proxy;

import dev.sbx.proxy.forward.Exchange;
import dev.sbx.proxy.forward.ExchangeListener;
import dev.sbx.proxy.routing.EnvdControlRoutes;
import dev.sbx.proxy.routing.SandboxTarget;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Request metrics of the client proxy, tagged by sandbox, route ({@code envd} for port 49983,
 * {@code port} for a user's server, {@code invalid} for requests that named no sandbox) and status
 * class ({@code 2xx} …, {@code closed} when the client left before a status was sent):
 *
 * <ul>
 *   <li>{@code sbx_proxy_requests_seconds} (count, sum, max): requests and their duration, from
 *       arrival to the end of the response;
 *   <li>{@code sbx_proxy_request_body_bytes} and {@code sbx_proxy_response_body_bytes}: body bytes
 *       read from and written to clients.
 * </ul>
 */
final class ProxyMetrics implements ExchangeListener {

  private final MeterRegistry registry;
  private final boolean perSandbox;
  private final ConcurrentMap<Key, Meters> cache = new ConcurrentHashMap<>();

  ProxyMetrics(MeterRegistry registry, boolean perSandbox) {
    this.registry = registry;
    this.perSandbox = perSandbox;
  }

  @Override
  public void finished(Exchange exchange) {
    SandboxTarget target = exchange.target();
    Key key =
        new Key(
            target == null ? "none" : perSandbox ? target.sandboxId() : "all",
            route(target),
            statusClass(exchange.status()));
    Meters meters = cache.computeIfAbsent(key, this::register);
    meters.requests().record(exchange.durationNanos(), TimeUnit.NANOSECONDS);
    meters.requestBody().record(exchange.bytesReceived());
    meters.responseBody().record(exchange.bytesSent());
  }

  private record Key(String sandbox, String route, String status) {}

  private record Meters(
      Timer requests, DistributionSummary requestBody, DistributionSummary responseBody) {}

  private Meters register(Key key) {
    Tags tags = Tags.of("sandbox", key.sandbox(), "route", key.route(), "status", key.status());
    return new Meters(
        Timer.builder("sbx.proxy.requests")
            .description("Requests through the client proxy, arrival to end of response")
            .tags(tags)
            .register(registry),
        DistributionSummary.builder("sbx.proxy.request.body")
            .description("Request body bytes read from clients")
            .baseUnit("bytes")
            .tags(tags)
            .register(registry),
        DistributionSummary.builder("sbx.proxy.response.body")
            .description("Response body bytes written to clients")
            .baseUnit("bytes")
            .tags(tags)
            .register(registry));
  }

  private static String route(@Nullable SandboxTarget target) {
    if (target == null) {
      return "invalid";
    }
    return target.port() == EnvdControlRoutes.ENVD_PORT ? "envd" : "port";
  }

  static String statusClass(int status) {
    if (status < 100 || status > 599) {
      return "closed";
    }
    return (status / 100) + "xx";
  }
}
