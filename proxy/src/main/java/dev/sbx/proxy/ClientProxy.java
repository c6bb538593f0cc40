package dev.sbx.proxy;

import static java.util.Objects.requireNonNull;

import dev.sbx.proxy.catalog.Catalog;
import dev.sbx.proxy.forward.ExchangeListener;
import dev.sbx.proxy.forward.ForwardingProxy;
import dev.sbx.proxy.resume.SandboxResumer;
import dev.sbx.proxy.routing.LocalNode;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client proxy (:3002, E2B wire protocol §3): routes {@code <port>-<id>[-<clientId>].<domain>}
 * hosts, or the {@code E2b-Sandbox-Id}/{@code E2b-Sandbox-Port} headers on localhost, IP-literal
 * and {@code sandbox.<domain>} hosts, to the node proxy the {@link Catalog} names, keeping Host,
 * headers, path and query and setting {@code X-Forwarded-For/-Proto/-Host}. Bodies, Connect streams
 * and WebSockets stream through without buffering.
 *
 * <p>With a {@link SandboxResumer}, a request for a paused sandbox resumes it (auto-resume, §3.2
 * step 2) and is forwarded once it runs. Answers itself: 400 (plain text) for a host or headers
 * naming no sandbox, 404 for envd's control routes, 502 for unknown sandboxes, paused ones that may
 * not resume on traffic, and unreachable nodes, 409 while a sandbox is transitioning, 403 for a
 * wrong token on auto-resume or a missing or wrong {@code e2b-traffic-access-token} on a non-envd
 * port of a sandbox that has one; JSON for programs, a small HTML page for browsers.
 *
 * <p>A second listener on {@code healthPort} serves {@code GET /health} (200 {@code
 * {"status":"healthy"}}, 503 once closing) and {@code GET /metrics} (Prometheus text).
 */
public final class ClientProxy implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ClientProxy.class);

  private static final String PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final Vertx vertx;
  private final PrometheusMeterRegistry registry;
  private @Nullable ForwardingProxy proxy;
  private @Nullable HttpServer healthServer;
  private volatile boolean closing;

  private ClientProxy(Vertx vertx, PrometheusMeterRegistry registry) {
    this.vertx = vertx;
    this.registry = registry;
  }

  /**
   * Starts the proxy and its health listener and returns once both accept connections. The catalog
   * stays the caller's: {@link #close()} does not close it.
   *
   * @throws IllegalStateException when a port cannot be bound or the TLS files cannot be read
   */
  public static ClientProxy start(ClientProxySettings settings, Catalog catalog) {
    return start(settings, catalog, null);
  }

  /**
   * Starts the proxy with auto-resume through {@code resumer} (null: none, paused sandboxes get the
   * 502 "not found"). The catalog and the resumer stay the caller's.
   *
   * @throws IllegalStateException when a port cannot be bound or the TLS files cannot be read
   */
  public static ClientProxy start(
      ClientProxySettings settings, Catalog catalog, @Nullable SandboxResumer resumer) {
    return start(settings, catalog, resumer, null);
  }

  /**
   * Starts the proxy as above; the sandboxes of {@code localNode} (a node in this process; null:
   * none) are reached directly, not through its node proxy (see {@link LocalNode}), and every dial
   * follows that node's policy.
   *
   * @throws IllegalStateException when a port cannot be bound or the TLS files cannot be read
   */
  public static ClientProxy start(
      ClientProxySettings settings,
      Catalog catalog,
      @Nullable SandboxResumer resumer,
      @Nullable LocalNode localNode) {
    requireNonNull(settings, "settings");
    requireNonNull(catalog, "catalog");
    Vertx vertx = Vertx.vertx();
    ClientProxy clientProxy =
        new ClientProxy(vertx, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    try {
      ProxyMetrics metrics = new ProxyMetrics(clientProxy.registry, settings.perSandboxMetrics());
      AccessLog accessLog = new AccessLog();
      ExchangeListener listener =
          exchange -> {
            metrics.finished(exchange);
            accessLog.finished(exchange);
          };
      clientProxy.proxy =
          ForwardingProxy.start(
              vertx,
              localNode == null
                  ? settings.forwarding()
                  : settings
                      .forwarding()
                      .withDials(localNode.dialAttempts(), localNode.dialBackoffStep()),
              new CatalogRouter(catalog, resumer, localNode),
              listener);
      HttpServer health =
          vertx
              .createHttpServer(
                  new HttpServerOptions().setHost(settings.host()).setPort(settings.healthPort()))
              .requestHandler(clientProxy::serveHealth);
      clientProxy.healthServer = health;
      await(health.listen().mapEmpty(), "health listener on port " + settings.healthPort());
    } catch (RuntimeException e) {
      clientProxy.close();
      throw e;
    }
    return clientProxy;
  }

  /** The proxy's port (the bound one when {@code settings.port()} was 0). */
  public int port() {
    return requireNonNull(proxy, "proxy").port();
  }

  /** The port of {@code /health} and {@code /metrics}. */
  public int healthPort() {
    return requireNonNull(healthServer, "healthServer").actualPort();
  }

  /** Stops both listeners, closes all connections and the event loops; idempotent. */
  @Override
  public void close() {
    closing = true;
    ForwardingProxy running = proxy;
    if (running != null) {
      running.close();
    }
    try {
      await(vertx.close(), "closing");
    } catch (IllegalStateException e) {
      LOG.warn("client proxy did not close cleanly", e);
    }
    registry.close();
  }

  private void serveHealth(HttpServerRequest request) {
    String path = request.path() == null ? "/" : request.path();
    boolean read = request.method() == HttpMethod.GET || request.method() == HttpMethod.HEAD;
    var response = request.response();
    if (read && path.equals("/health")) {
      response
          .setStatusCode(closing ? 503 : 200)
          .putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8")
          .end(closing ? "{\"status\":\"closing\"}" : "{\"status\":\"healthy\"}");
    } else if (read && path.equals("/metrics")) {
      response.putHeader(HttpHeaders.CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE).end(registry.scrape());
    } else {
      response
          .setStatusCode(404)
          .putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8")
          .end("{\"code\":404,\"message\":\"Not found: only /health and /metrics\"}");
    }
  }

  private static void await(io.vertx.core.Future<?> future, String what) {
    try {
      future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("client proxy: " + what + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("client proxy: interrupted while " + what, e);
    }
  }
}
