package dev.sbx.orchestrator.proxy;

import static java.util.Objects.requireNonNull;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
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
import io.vertx.core.net.SocketAddress;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;

/**
 * The node proxy (E2B wire protocol §3.2 step 3): an HTTP server that maps each request to a
 * sandbox on this host ({@link SandboxTarget}), looks its address up in {@link SandboxAddresses}
 * and forwards to {@code http://<address>:<port>} with Host, method, path, query and end-to-end
 * headers kept. Bodies are piped with back-pressure in both directions (nothing is buffered,
 * Connect stream messages pass one by one), WebSocket and other HTTP/1.1 upgrades become byte
 * tunnels after the upstream's 101, and connections to each sandbox address and port are pooled
 * with keep-alive.
 *
 * <p>Built on Vert.x core's {@code HttpServer} and {@code HttpClient}; all work happens on event
 * loops, so {@link SandboxAddresses} must answer from memory.
 */
public final class NodeProxy implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(NodeProxy.class.getName());

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

  private final Vertx vertx;
  private final HttpServer server;
  private final HttpClient client;
  private final SandboxAddresses addresses;
  private final NodeProxySettings settings;

  private NodeProxy(
      Vertx vertx,
      HttpServer server,
      HttpClient client,
      SandboxAddresses addresses,
      NodeProxySettings settings) {
    this.vertx = vertx;
    this.server = server;
    this.client = client;
    this.addresses = addresses;
    this.settings = settings;
  }

  /**
   * Starts a proxy listening on {@code settings.host():settings.port()} and returns once it accepts
   * connections.
   *
   * @throws IllegalStateException when the port cannot be bound
   */
  public static NodeProxy start(NodeProxySettings settings, SandboxAddresses addresses) {
    requireNonNull(settings, "settings");
    requireNonNull(addresses, "addresses");
    Vertx vertx = Vertx.vertx();
    int idleSeconds = (int) Math.min(Integer.MAX_VALUE, settings.idleTimeout().toSeconds());
    HttpServer server =
        vertx.createHttpServer(
            new HttpServerOptions()
                .setHost(settings.host())
                .setPort(settings.port())
                .setIdleTimeout(idleSeconds)
                .setIdleTimeoutUnit(TimeUnit.SECONDS)
                .setMaxInitialLineLength(64 * 1024)
                .setMaxHeaderSize(64 * 1024)
                .setTcpNoDelay(true));
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
            new PoolOptions().setHttp1MaxSize(settings.maxConnectionsPerUpstream()));
    NodeProxy proxy = new NodeProxy(vertx, server, client, addresses, settings);
    server.requestHandler(proxy::handle);
    try {
      server.listen().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      proxy.close();
      throw new IllegalStateException(
          "node proxy cannot listen on " + settings.host() + ":" + settings.port(), e);
    } catch (InterruptedException e) {
      proxy.close();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting the node proxy", e);
    }
    return proxy;
  }

  /** The port the proxy listens on (the bound one when {@code settings.port()} was 0). */
  public int port() {
    return server.actualPort();
  }

  /** Stops listening, closes all connections and the event loops. */
  @Override
  public void close() {
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      LOG.log(Level.WARNING, "node proxy did not close cleanly", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void handle(HttpServerRequest request) {
    boolean hasBody = hasBody(request);
    if (hasBody) {
      // held back until it is piped to the sandbox (or drained after an error)
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
      sendPlainText(request, 400, requireNonNull(e.getMessage()));
      return;
    }
    String path = request.path();
    if (EnvdControlRoutes.isBlocked(target.port(), path == null ? "/" : path)) {
      sendError(request, ProxyError.controlRoute(target.sandboxId()));
      return;
    }
    String address = addresses.address(target.sandboxId());
    if (address == null) {
      sendError(request, ProxyError.sandboxNotFound(target.sandboxId()));
      return;
    }
    RequestOptions options =
        new RequestOptions()
            .setServer(SocketAddress.inetSocketAddress(target.port(), address))
            .setMethod(request.method())
            .setURI(requestTarget(request));
    dial(options, 1)
        .onComplete(
            dialed -> {
              if (dialed.failed()) {
                sendError(request, ProxyError.portNotOpen(target.sandboxId(), target.port()));
                return;
              }
              forward(request, dialed.result(), authority, hasBody);
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
      HttpServerRequest request,
      HttpClientRequest upstream,
      @Nullable HostAndPort authority,
      boolean hasBody) {
    boolean upgrade = isUpgrade(request);
    copyEndToEnd(request.headers(), upstream.headers());
    if (authority != null) {
      upstream.authority(authority);
    }
    HttpServerResponse response = request.response();
    response.closeHandler(closed -> upstream.reset());
    if (upgrade) {
      upstream.putHeader(HttpHeaders.CONNECTION, "Upgrade");
      upstream.putHeader(
          HttpHeaders.UPGRADE, requireNonNull(request.getHeader(HttpHeaders.UPGRADE)));
      upstream
          .connect()
          .onComplete(
              answered -> {
                if (answered.failed()) {
                  sendUpstreamFailure(request, answered.cause());
                } else if (answered.result().statusCode() == 101) {
                  tunnel(request, answered.result());
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
            sendUpstreamFailure(request, answered.cause());
          } else {
            relayResponse(request, upstream, answered.result());
          }
        });
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

  private static void tunnel(HttpServerRequest request, HttpClientResponse answer) {
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
              clientSocket.pipeTo(upstreamSocket);
              upstreamSocket.pipeTo(clientSocket);
            });
  }

  private static void sendUpstreamFailure(HttpServerRequest request, Throwable failure) {
    HttpServerResponse response = request.response();
    LOG.log(Level.FINE, "upstream failed for " + request.uri(), failure);
    if (response.closed() || response.ended()) {
      return;
    }
    if (response.headWritten()) {
      response.reset();
      return;
    }
    response.setStatusCode(502).end();
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
    Set<String> named = new HashSet<>();
    for (String connection : from.getAll(HttpHeaders.CONNECTION)) {
      for (String token : connection.split(",")) {
        named.add(token.trim().toLowerCase(Locale.ROOT));
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
