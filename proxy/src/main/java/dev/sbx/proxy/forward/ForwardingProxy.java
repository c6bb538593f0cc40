package dev.sbx.proxy.forward;

import static java.util.Objects.requireNonNull;

import dev.sbx.proxy.routing.EnvdControlRoutes;
import dev.sbx.proxy.routing.InvalidTargetException;
import dev.sbx.proxy.routing.ProxyError;
import dev.sbx.proxy.routing.SandboxTarget;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.SocketAddress;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A sandbox proxy's HTTP server and client (E2B wire protocol §3): each request is mapped to its
 * {@link SandboxTarget} (plain-text 400 when it names none), envd's control routes are answered
 * with 404, the {@link Router} picks the upstream or an error, and the request is forwarded with
 * method, URI (path and query as sent), {@code Host} and all end-to-end headers kept.
 *
 * <p>Bodies are piped with back-pressure in both directions (nothing is buffered; Connect stream
 * messages pass one by one). An HTTP/1.1 upgrade (WebSocket) that the upstream answers with 101
 * turns both connections into a byte tunnel. Connections to each upstream are pooled with
 * keep-alive. A dial that fails is retried with a linear backoff before the route's dial-failure
 * answer; an upstream that fails after connecting gives a bare 502 (or a reset once the response
 * has started). A client that goes away resets the upstream request.
 *
 * <p>All work happens on the event loops of the {@link Vertx} given to {@link #start}: the proxy
 * listens on {@link #eventLoops()} of them (one server instance per event loop sharing the port,
 * Vert.x hands each new connection to the next), and each request dials upstream from its own event
 * loop through a pool of connections kept per event loop, so that no request changes threads. The
 * proxy closes its servers and client but not that {@code Vertx}.
 */
public final class ForwardingProxy implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ForwardingProxy.class);

  /** Hop-by-hop headers (RFC 9110 §7.6.1), never forwarded as they are. */
  private static final Set<String> HOP_BY_HOP =
      Set.of(
          "connection",
          "keep-alive",
          "proxy-connection",
          "proxy-authenticate",
          "proxy-authorization",
          "te",
          "trailer",
          "transfer-encoding",
          "upgrade",
          "http2-settings");

  /**
   * The header in which the client proxy tells the node proxy the Host a sandbox's server is to see
   * ({@code maskRequestHost}, {@code ${PORT}} already replaced). Internal to the hop between the
   * two proxies: a value a client sent is always dropped, and the node proxy removes it before the
   * sandbox.
   */
  public static final String MASKED_HOST_HEADER = "Sbx-Masked-Host";

  /** Makes a pool key a host name that no request carries (see {@link Route.Upstream#poolKey}). */
  private static final String POOL_KEY_SUFFIX = ".pool.sbx.invalid";

  private static final AtomicInteger RANDOM_PORT_KEYS = new AtomicInteger();

  private static final String X_FORWARDED_FOR = "X-Forwarded-For";
  private static final String X_FORWARDED_PROTO = "X-Forwarded-Proto";
  private static final String X_FORWARDED_HOST = "X-Forwarded-Host";

  private final Vertx vertx;
  private final List<HttpServer> servers = new CopyOnWriteArrayList<>();
  private final List<String> deployments = new CopyOnWriteArrayList<>();
  private final HttpClient client;
  // the upstream connections that carried a request already: a failure on one of those may be a
  // stale keep-alive connection (weak: the pool drops closed ones)
  private final Set<HttpConnection> usedConnections =
      Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));
  private final ForwardingSettings settings;
  private final Router router;
  private final ExchangeListener listener;
  private final SandboxConnections connections;

  private ForwardingProxy(
      Vertx vertx,
      HttpClient client,
      ForwardingSettings settings,
      Router router,
      ExchangeListener listener) {
    this.vertx = vertx;
    this.client = client;
    this.settings = settings;
    this.router = router;
    this.listener = listener;
    this.connections = new SandboxConnections(settings.maxConnectionsPerSandbox());
  }

  /**
   * Starts a proxy listening on {@code settings.host():settings.port()} and returns once it accepts
   * connections.
   *
   * @throws IllegalStateException when the port cannot be bound or the TLS files cannot be read
   */
  public static ForwardingProxy start(
      Vertx vertx, ForwardingSettings settings, Router router, ExchangeListener listener) {
    requireNonNull(vertx, "vertx");
    requireNonNull(settings, "settings");
    requireNonNull(router, "router");
    requireNonNull(listener, "listener");
    int idleSeconds = (int) Math.min(Integer.MAX_VALUE, settings.idleTimeout().toSeconds());
    HttpServerOptions serverOptions =
        new HttpServerOptions()
            .setHost(settings.host())
            .setPort(settings.port())
            .setIdleTimeout(idleSeconds)
            .setIdleTimeoutUnit(TimeUnit.SECONDS)
            .setMaxInitialLineLength(64 * 1024)
            .setMaxHeaderSize(64 * 1024)
            .setTcpNoDelay(true)
            // h2c: prior knowledge or an HTTP/1.1 Upgrade; with TLS, h2 by ALPN
            .setHttp2ClearTextEnabled(true);
    ServerTls tls = settings.tls();
    if (tls != null) {
      serverOptions
          .setSsl(true)
          // h2 or HTTP/1.1 by ALPN, as the SDKs negotiate
          .setUseAlpn(true)
          .setKeyCertOptions(
              new PemKeyCertOptions()
                  .setCertPath(tls.certificateChain().toString())
                  .setKeyPath(tls.privateKey().toString()));
    }
    HttpClient client =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setKeepAlive(true)
                .setKeepAliveTimeout(60)
                .setIdleTimeout(idleSeconds)
                .setIdleTimeoutUnit(TimeUnit.SECONDS)
                .setConnectTimeout((int) settings.connectTimeout().toMillis())
                .setMaxInitialLineLength(64 * 1024)
                .setMaxHeaderSize(64 * 1024)
                .setTcpNoDelay(true),
            // eventLoopSize 0: a request gets a connection of its own event loop
            new PoolOptions().setHttp1MaxSize(settings.maxConnectionsPerUpstream()));
    ForwardingProxy proxy = new ForwardingProxy(vertx, client, settings, router, listener);
    try {
      // one server instance per event loop, all on one port: Vert.x shares a bound port among the
      // servers of one Vertx; for "any port" a negative one is Vert.x's key of a random port that
      // the servers listening with that same key share (0 would give each its own port); one key
      // per proxy, so that two proxies on one Vertx never share
      int port =
          settings.port() == 0
              ? -1 - Math.floorMod(RANDOM_PORT_KEYS.getAndIncrement(), 65535)
              : settings.port();
      proxy.deploy(new HttpServerOptions(serverOptions).setPort(port), eventLoops());
      int bound = proxy.port();
      if (proxy.servers.stream().anyMatch(server -> server.actualPort() != bound)) {
        throw new ExecutionException(
            new IllegalStateException("the proxy's server instances did not share one port"));
      }
    } catch (ExecutionException | TimeoutException e) {
      proxy.close();
      throw new IllegalStateException(
          "proxy cannot listen on " + settings.host() + ":" + settings.port(), e);
    } catch (InterruptedException e) {
      proxy.close();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting the proxy", e);
    }
    return proxy;
  }

  /**
   * How many event loops serve connections: one per core the JVM sees. A single one would cap the
   * proxy at one core, although it does twice the HTTP work of the upstream it forwards to.
   */
  public static int eventLoops() {
    return Math.max(1, Runtime.getRuntime().availableProcessors());
  }

  private void deploy(HttpServerOptions options, int instances)
      throws ExecutionException, TimeoutException, InterruptedException {
    String id =
        vertx
            .deployVerticle(
                () -> new Listener(options), new DeploymentOptions().setInstances(instances))
            .toCompletionStage()
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS);
    deployments.add(id);
  }

  /** One server instance on the event loop of its deployment. */
  private final class Listener extends VerticleBase {
    private final HttpServerOptions options;

    Listener(HttpServerOptions options) {
      this.options = options;
    }

    @Override
    public Future<?> start() {
      HttpServer server =
          vertx.createHttpServer(options).requestHandler(ForwardingProxy.this::handle);
      servers.add(server);
      return server.listen();
    }
  }

  /** The port the proxy listens on (the bound one when {@code settings.port()} was 0). */
  public int port() {
    return servers.getFirst().actualPort();
  }

  /** Stops listening and closes all connections (not the {@code Vertx}). */
  @Override
  public void close() {
    List<Future<?>> closing = new ArrayList<>();
    servers.forEach(server -> closing.add(server.close()));
    deployments.forEach(id -> closing.add(vertx.undeploy(id)));
    closing.add(client.close());
    try {
      Future.join(closing).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      LOG.warn("proxy did not close cleanly", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The state of one request, reported once to the listener. */
  private final class Tracked {
    // touched only on the request's event loop
    final HttpServerRequest request;
    final long startNanos = System.nanoTime();
    @Nullable SandboxTarget target;
    // the target came from the router, not from the request: the next hop learns it by headers
    boolean targetNamedByRouter;
    @Nullable HttpClientRequest upstream;
    // times sent again after a reused connection failed (see retryOnFreshConnection)
    int retries;
    // the sandbox whose connection count this exchange holds until it is reported
    @Nullable String counted;
    boolean reported;

    Tracked(HttpServerRequest request) {
      this.request = request;
    }

    void report() {
      if (reported) {
        return;
      }
      reported = true;
      String held = counted;
      if (held != null) {
        counted = null;
        connections.release(held);
      }
      HttpServerResponse response = request.response();
      HostAndPort authority = request.authority();
      SocketAddress remote = request.remoteAddress();
      int status = response.headWritten() ? response.getStatusCode() : 0;
      try {
        listener.finished(
            new Exchange(
                request.method().name(),
                request.uri(),
                authority == null ? null : authority.toString(),
                remote == null ? "-" : remote.toString(),
                target,
                status,
                request.bytesRead(),
                response.bytesWritten(),
                System.nanoTime() - startNanos));
      } catch (RuntimeException e) {
        LOG.warn("exchange listener failed", e);
      }
    }
  }

  private void handle(HttpServerRequest request) {
    Tracked tracked = new Tracked(request);
    HttpServerResponse response = request.response();
    response.bodyEndHandler(v -> tracked.report());
    response.closeHandler(
        closed -> {
          HttpClientRequest upstream = tracked.upstream;
          if (upstream != null) {
            upstream.reset();
          }
          tracked.report();
        });
    boolean hasBody = hasBody(request);
    if (hasBody) {
      // held back until it is piped upstream (or drained after an error)
      request.pause();
    }
    HostAndPort authority = request.authority();
    SandboxTarget target;
    try {
      target =
          SandboxTarget.of(
              authority == null ? null : authority.host(),
              request.getHeader(SandboxTarget.SANDBOX_ID_HEADER),
              request.getHeader(SandboxTarget.SANDBOX_PORT_HEADER));
    } catch (InvalidTargetException e) {
      String invalid = requireNonNull(e.getMessage());
      Future<Optional<SandboxTarget>> found;
      try {
        found = router.unaddressed(request);
      } catch (RuntimeException failure) {
        found = Future.failedFuture(failure);
      }
      found.onComplete(
          answer -> {
            if (answer.succeeded() && answer.result().isPresent()) {
              tracked.targetNamedByRouter = true;
              forwardTo(tracked, answer.result().get(), hasBody);
            } else {
              if (answer.failed()) {
                LOG.warn("finding the target of {} failed", request.uri(), answer.cause());
              }
              sendPlainText(request, 400, invalid);
            }
          });
      return;
    }
    forwardTo(tracked, target, hasBody);
  }

  private void forwardTo(Tracked tracked, SandboxTarget target, boolean hasBody) {
    HttpServerRequest request = tracked.request;
    tracked.target = target;
    String path = request.path();
    if (EnvdControlRoutes.isBlocked(target.port(), path == null ? "/" : path)) {
      sendError(request, ProxyError.controlRoute(target.sandboxId()));
      return;
    }
    if (!connections.tryAcquire(target.sandboxId())) {
      sendError(request, ProxyError.tooManyConnections(target.sandboxId(), connections.limit()));
      return;
    }
    if (connections.limit() != ForwardingSettings.UNLIMITED) {
      tracked.counted = target.sandboxId();
    }
    Future<Route> routed;
    try {
      routed = router.route(target, request);
    } catch (RuntimeException e) {
      routed = Future.failedFuture(e);
    }
    routed.onComplete(
        decided -> {
          if (decided.failed()) {
            LOG.warn("routing failed for {} {}", target, request.uri(), decided.cause());
            sendBare502(request);
            return;
          }
          switch (decided.result()) {
            case Route.Refused refused -> sendError(request, refused.error());
            case Route.Upstream upstream -> dialAndForward(tracked, upstream, hasBody);
          }
        });
  }

  private void dialAndForward(Tracked tracked, Route.Upstream route, boolean hasBody) {
    HttpServerRequest request = tracked.request;
    if (request.response().closed()) {
      return;
    }
    RequestOptions options =
        new RequestOptions()
            .setServer(SocketAddress.inetSocketAddress(route.port(), route.host()))
            .setMethod(request.method())
            .setURI(requestTarget(request));
    String poolKey = route.poolKey();
    if (poolKey != null) {
      // Vert.x pools per server address and authority: a key of its own per pool key (the Host
      // sent is set in forward())
      options.setHost(poolKey + POOL_KEY_SUFFIX).setPort(route.port());
    }
    dial(options, 1)
        .onComplete(
            dialed -> {
              if (dialed.failed()) {
                sendError(request, route.dialFailure());
                return;
              }
              HttpClientRequest upstream = dialed.result();
              if (request.response().closed()) {
                upstream.reset();
                return;
              }
              tracked.upstream = upstream;
              // failures are answered through the send/connect futures; this only keeps Vert.x
              // from logging a connection closed under a finished or tunnelled request
              upstream.exceptionHandler(
                  failure -> LOG.debug("upstream {}: {}", request.uri(), failure.toString()));
              boolean reused = !usedConnections.add(upstream.connection());
              forward(tracked, route, upstream, hasBody, reused);
            });
  }

  /** Connects, retrying a refused or timed-out dial with a linear backoff. */
  private Future<HttpClientRequest> dial(RequestOptions options, int attempt) {
    return client
        .request(options)
        .recover(
            failure -> {
              if (attempt >= settings.dialAttempts()) {
                return Future.failedFuture(failure);
              }
              Promise<HttpClientRequest> retried = Promise.promise();
              vertx.setTimer(
                  settings.dialBackoffStep().toMillis() * attempt,
                  timer -> dial(options, attempt + 1).onComplete(retried));
              return retried.future();
            });
  }

  private void forward(
      Tracked tracked,
      Route.Upstream route,
      HttpClientRequest upstream,
      boolean hasBody,
      boolean reused) {
    HttpServerRequest request = tracked.request;
    boolean upgrade = isUpgrade(request);
    copyEndToEnd(request.headers(), upstream.headers());
    // never passed on as it came: only a route of this proxy sets it (see below)
    upstream.headers().remove(MASKED_HOST_HEADER);
    HostAndPort authority = request.authority();
    String masked = route.maskedHost();
    HostAndPort maskedAuthority =
        masked == null || route.nextHopMasks() ? null : HostAndPort.parseAuthority(masked, -1);
    if (maskedAuthority != null) {
      // a copied Host header would win over the authority
      upstream.headers().remove(HttpHeaders.HOST);
      upstream.authority(maskedAuthority);
      if (authority != null) {
        upstream.headers().set(X_FORWARDED_HOST, authority.toString());
      }
    } else if (authority != null) {
      upstream.authority(authority);
    } else if (route.poolKey() != null) {
      // no Host from the client (HTTP/1.0): the upstream's address, never the pool key
      upstream.authority(HostAndPort.create(route.host(), route.port()));
    }
    if (masked != null && route.nextHopMasks()) {
      upstream.putHeader(MASKED_HOST_HEADER, masked);
    }
    SandboxTarget target = tracked.target;
    if (tracked.targetNamedByRouter && target != null) {
      upstream.putHeader(SandboxTarget.SANDBOX_ID_HEADER, target.sandboxId());
      upstream.putHeader(SandboxTarget.SANDBOX_PORT_HEADER, Integer.toString(target.port()));
    }
    if (settings.forwardedHeaders()) {
      SocketAddress remote = request.remoteAddress();
      MultiMap headers = upstream.headers();
      headers.remove(X_FORWARDED_FOR).remove(X_FORWARDED_PROTO).remove(X_FORWARDED_HOST);
      if (remote != null && remote.hostAddress() != null) {
        headers.set(X_FORWARDED_FOR, remote.hostAddress());
      }
      headers.set(X_FORWARDED_PROTO, request.isSSL() ? "https" : "http");
      if (authority != null) {
        headers.set(X_FORWARDED_HOST, authority.toString());
      }
    }
    if (upgrade) {
      upstream.putHeader(HttpHeaders.CONNECTION, "Upgrade");
      upstream.putHeader(
          HttpHeaders.UPGRADE, requireNonNull(request.getHeader(HttpHeaders.UPGRADE)));
      upstream
          .connect()
          .onComplete(
              answered -> {
                if (answered.failed()) {
                  if (hasBody
                      || !retryOnFreshConnection(tracked, route, reused, answered.cause())) {
                    sendUpstreamFailure(request, answered.cause());
                  }
                } else if (answered.result().statusCode() == 101) {
                  tunnel(tracked, answered.result());
                } else {
                  relayResponse(request, upstream, answered.result());
                }
              });
      return;
    }
    Future<HttpClientResponse> answer;
    if (hasBody) {
      if (!request.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
        upstream.setChunked(true);
      }
      answer = upstream.send(request);
    } else {
      answer = upstream.send();
    }
    answer.onComplete(
        answered -> {
          if (answered.failed()) {
            if (hasBody || !retryOnFreshConnection(tracked, route, reused, answered.cause())) {
              sendUpstreamFailure(request, answered.cause());
            }
          } else {
            relayResponse(request, upstream, answered.result());
          }
        });
  }

  /**
   * A pooled keep-alive connection can be dead without the pool knowing: the upstream went away
   * behind a firewall that dropped its FIN (a sandbox paused through CRIU, whose network lock holds
   * while its processes die) or was replaced by another at the same address. A request without a
   * body that failed on such a reused connection before any answer is sent again (the one that
   * failed is closed; the pool may hand out another stale one, which fails as fast, until it dials
   * a new connection, where a failure is final; at most {@link #MAX_STALE_RETRIES} times); anything
   * else is answered as a failure.
   */
  static final int MAX_STALE_RETRIES = 8;

  private boolean retryOnFreshConnection(
      Tracked tracked, Route.Upstream route, boolean reused, Throwable failure) {
    HttpServerResponse response = tracked.request.response();
    if (!reused
        || tracked.retries >= MAX_STALE_RETRIES
        || response.headWritten()
        || response.closed()
        || !(failure instanceof IOException || failure instanceof HttpClosedException)) {
      return false;
    }
    tracked.retries++;
    tracked.upstream = null;
    LOG.debug("reused connection failed for {}, sending again: {}", tracked.request.uri(), failure);
    dialAndForward(tracked, route, false);
    return true;
  }

  private static void relayResponse(
      HttpServerRequest request, HttpClientRequest upstream, HttpClientResponse answer) {
    HttpServerResponse response = request.response();
    if (response.closed()) {
      upstream.reset();
      return;
    }
    response.setStatusCode(answer.statusCode());
    response.setStatusMessage(answer.statusMessage());
    copyEndToEnd(answer.headers(), response.headers());
    int status = answer.statusCode();
    boolean bodyless =
        request.method() == HttpMethod.HEAD || status == 204 || status == 304 || status < 200;
    if (!bodyless
        && !response.headers().contains(HttpHeaders.CONTENT_LENGTH)
        && request.version() != HttpVersion.HTTP_1_0) {
      response.setChunked(true);
    }
    response
        .send(answer)
        .onFailure(
            failure -> {
              upstream.reset();
              response.reset();
            });
  }

  private static void tunnel(Tracked tracked, HttpClientResponse answer) {
    HttpServerRequest request = tracked.request;
    HttpServerResponse response = request.response();
    response.setStatusCode(101);
    response.headers().addAll(answer.headers());
    NetSocket upstreamSocket = answer.netSocket();
    request
        .toNetSocket()
        .onComplete(
            switched -> {
              if (switched.failed()) {
                upstreamSocket.close();
                return;
              }
              NetSocket clientSocket = switched.result();
              clientSocket.closeHandler(v -> tracked.report());
              clientSocket.pipeTo(upstreamSocket);
              upstreamSocket.pipeTo(clientSocket);
            });
  }

  private static void sendUpstreamFailure(HttpServerRequest request, Throwable failure) {
    HttpServerResponse response = request.response();
    LOG.debug("upstream failed for {}", request.uri(), failure);
    if (response.closed() || response.ended()) {
      return;
    }
    if (response.headWritten()) {
      response.reset();
      return;
    }
    sendBare502(request);
  }

  private static void sendBare502(HttpServerRequest request) {
    if (!request.isEnded()) {
      request.resume();
    }
    HttpServerResponse response = request.response();
    if (!response.closed() && !response.ended()) {
      response.setStatusCode(502).end();
    }
  }

  private static void sendPlainText(HttpServerRequest request, int status, String text) {
    if (!request.isEnded()) {
      request.resume();
    }
    request
        .response()
        .setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
        .putHeader("X-Content-Type-Options", "nosniff")
        .end(text + "\n");
  }

  private static void sendError(HttpServerRequest request, ProxyError error) {
    if (!request.isEnded()) {
      request.resume();
    }
    HttpServerResponse response = request.response();
    if (response.closed() || response.ended()) {
      return;
    }
    boolean browser =
        ProxyError.isBrowserNavigation(
            request.getHeader(HttpHeaders.USER_AGENT),
            request.getHeader(HttpHeaders.ACCEPT),
            request.getHeader("Sec-Fetch-Mode"));
    response
        .setStatusCode(error.status())
        .putHeader(
            HttpHeaders.CONTENT_TYPE,
            browser ? ProxyError.HTML_CONTENT_TYPE : ProxyError.JSON_CONTENT_TYPE)
        .end(browser ? error.html() : error.json());
  }

  private static boolean isUpgrade(HttpServerRequest request) {
    if (request.version() != HttpVersion.HTTP_1_1
        || request.getHeader(HttpHeaders.UPGRADE) == null) {
      return false;
    }
    String connection = request.getHeader(HttpHeaders.CONNECTION);
    return connection != null && connection.toLowerCase(Locale.ROOT).contains("upgrade");
  }

  private static boolean hasBody(HttpServerRequest request) {
    if (request.version() == HttpVersion.HTTP_2) {
      return !request.isEnded();
    }
    String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
    return request.headers().contains(HttpHeaders.TRANSFER_ENCODING)
        || (length != null && !length.equals("0"));
  }

  private static String requestTarget(HttpServerRequest request) {
    String uri = request.uri();
    if (uri.startsWith("/")) {
      return uri;
    }
    String query = request.query();
    return request.path() + (query == null ? "" : "?" + query);
  }

  /** Copies all headers except the hop-by-hop ones and those the Connection header names. */
  private static void copyEndToEnd(MultiMap from, MultiMap to) {
    Set<String> named = Set.of();
    List<String> connections = from.getAll(HttpHeaders.CONNECTION);
    if (!connections.isEmpty()) {
      named = new HashSet<>();
      for (String connection : connections) {
        for (String token : connection.split(",")) {
          named.add(token.trim().toLowerCase(Locale.ROOT));
        }
      }
    }
    for (Map.Entry<String, String> header : from) {
      String name = header.getKey().toLowerCase(Locale.ROOT);
      if (!HOP_BY_HOP.contains(name) && !named.contains(name)) {
        to.add(header.getKey(), header.getValue());
      }
    }
  }
}
