package dev.sbx.orchestrator.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sbx.proxy.ClientProxy;
import dev.sbx.proxy.ClientProxySettings;
import dev.sbx.proxy.catalog.CatalogEntry;
import dev.sbx.proxy.catalog.InMemoryCatalog;
import dev.sbx.proxy.routing.ProxyError;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.net.SocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole data path on loopback: the proxy module's ClientProxy → this module's NodeProxy → a
 * stand-in sandbox server, for Connect-style streaming, WebSocket and the node's 502 bodies.
 */
class ClientProxyChainTest {

  private static final String SANDBOX = "sbxtchain1";
  private static final String MASKED = "sbxtchain2";

  private static Vertx vertx;
  private static HttpClient client;
  private static HttpServer upstream;
  private static NodeProxy nodeProxy;
  private static ClientProxy clientProxy;
  private static final InMemoryCatalog CATALOG = new InMemoryCatalog();
  private static final CompletableFuture<Void> RELEASE = new CompletableFuture<>();

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    client = vertx.createHttpClient();
    upstream =
        await(
            vertx
                .createHttpServer()
                .requestHandler(ClientProxyChainTest::serve)
                .webSocketHandler(ws -> ws.textMessageHandler(ws::writeTextMessage))
                .listen(0, "127.0.0.1"));
    InMemorySandboxAddresses addresses = new InMemorySandboxAddresses();
    addresses.put(SANDBOX, "127.0.0.1");
    addresses.put(MASKED, "127.0.0.1");
    nodeProxy = NodeProxy.start(NodeProxySettings.defaults("127.0.0.1", 0), addresses);
    CATALOG.put(
        new CatalogEntry(
            SANDBOX,
            "node1",
            "127.0.0.1",
            nodeProxy.port(),
            null,
            CatalogEntry.RouteState.RUNNING));
    CATALOG.put(
        new CatalogEntry(
            MASKED,
            "node1",
            "127.0.0.1",
            nodeProxy.port(),
            null,
            CatalogEntry.RouteState.RUNNING,
            null,
            "masked.example:${PORT}"));
    clientProxy = ClientProxy.start(ClientProxySettings.defaults("127.0.0.1", 0, 0), CATALOG);
  }

  @AfterAll
  static void stop() throws Exception {
    if (clientProxy != null) {
      clientProxy.close();
    }
    if (nodeProxy != null) {
      nodeProxy.close();
    }
    if (vertx != null) {
      await(vertx.close());
    }
  }

  private static void serve(HttpServerRequest request) {
    if ("/stream".equals(request.path())) {
      var response =
          request
              .response()
              .setChunked(true)
              .putHeader(HttpHeaders.CONTENT_TYPE, "application/connect+json");
      response.write(envelope(0, "{\"n\":1}"));
      var context = vertx.getOrCreateContext();
      RELEASE.thenRun(() -> context.runOnContext(v -> response.end(envelope(2, "{}"))));
      return;
    }
    request
        .response()
        .putHeader("X-Seen-Host", String.valueOf(request.getHeader("Host")))
        .putHeader("X-Seen-Forwarded-For", String.valueOf(request.getHeader("X-Forwarded-For")))
        .putHeader("X-Seen-Forwarded-Host", String.valueOf(request.getHeader("X-Forwarded-Host")))
        .putHeader("X-Seen-Masked-Header", String.valueOf(request.getHeader("Sbx-Masked-Host")))
        .end("sandbox " + request.uri());
  }

  private static Buffer envelope(int flags, String json) {
    byte[] data = json.getBytes(StandardCharsets.UTF_8);
    return Buffer.buffer().appendByte((byte) flags).appendInt(data.length).appendBytes(data);
  }

  private static RequestOptions via(String host, String uri) {
    return new RequestOptions()
        .setServer(SocketAddress.inetSocketAddress(clientProxy.port(), "127.0.0.1"))
        .setMethod(HttpMethod.GET)
        .setHost(host)
        .setPort(clientProxy.port())
        .setURI(uri);
  }

  @Test
  void hostRoutingReachesTheSandboxWithHostKeptAndForwardedFor() throws Exception {
    String host = upstream.actualPort() + "-" + SANDBOX + ".sbx.test";
    var answer =
        onLoop(
            () ->
                client
                    .request(via(host, "/a?b=c"))
                    .compose(HttpClientRequest::send)
                    .compose(
                        response ->
                            response
                                .body()
                                .map(
                                    body ->
                                        response.statusCode()
                                            + " "
                                            + response.getHeader("X-Seen-Host")
                                            + " "
                                            + response.getHeader("X-Seen-Forwarded-For")
                                            + " "
                                            + body)));
    assertThat(answer)
        .isEqualTo("200 " + host + ":" + clientProxy.port() + " 127.0.0.1 sandbox /a?b=c");
  }

  /** Status, Host, X-Forwarded-Host and the internal mask header as the sandbox saw them. */
  private static String seen(RequestOptions options) throws Exception {
    return onLoop(
        () ->
            client
                .request(options)
                .compose(HttpClientRequest::send)
                .compose(
                    response ->
                        response
                            .body()
                            .map(
                                body ->
                                    response.statusCode()
                                        + " host="
                                        + response.getHeader("X-Seen-Host")
                                        + " forwarded="
                                        + response.getHeader("X-Seen-Forwarded-Host")
                                        + " internal="
                                        + response.getHeader("X-Seen-Masked-Header"))));
  }

  @Test
  void maskRequestHostReplacesTheHostTheSandboxSees() throws Exception {
    int port = upstream.actualPort();
    String host = port + "-" + MASKED + ".sbx.test";
    assertThat(seen(via(host, "/masked")))
        .isEqualTo(
            "200 host=masked.example:"
                + port
                + " forwarded="
                + host
                + ":"
                + clientProxy.port()
                + " internal=null");
  }

  @Test
  void maskRequestHostAppliesToHeaderRoutedRequestsToo() throws Exception {
    int port = upstream.actualPort();
    RequestOptions options =
        via("127.0.0.1", "/masked")
            .putHeader("E2b-Sandbox-Id", MASKED)
            .putHeader("E2b-Sandbox-Port", Integer.toString(port));
    assertThat(seen(options))
        .isEqualTo(
            "200 host=masked.example:"
                + port
                + " forwarded=127.0.0.1:"
                + clientProxy.port()
                + " internal=null");
  }

  @Test
  void aClientCannotMaskTheHostOfASandboxWithoutMask() throws Exception {
    String host = upstream.actualPort() + "-" + SANDBOX + ".sbx.test";
    assertThat(seen(via(host, "/plain").putHeader("Sbx-Masked-Host", "evil.example")))
        .isEqualTo(
            "200 host="
                + host
                + ":"
                + clientProxy.port()
                + " forwarded="
                + host
                + ":"
                + clientProxy.port()
                + " internal=null");
  }

  @Test
  void streamMessagesPassOneByOne() throws Exception {
    CompletableFuture<Buffer> first = new CompletableFuture<>();
    Buffer all = Buffer.buffer();
    CompletableFuture<Buffer> done = new CompletableFuture<>();
    onLoop(
        () ->
            client
                .request(via(upstream.actualPort() + "-" + SANDBOX + ".sbx.test", "/stream"))
                .compose(HttpClientRequest::send)
                .map(
                    response -> {
                      response.handler(
                          chunk -> {
                            all.appendBuffer(chunk);
                            first.complete(all.copy());
                          });
                      response.endHandler(v -> done.complete(all));
                      return response;
                    }));
    assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(envelope(0, "{\"n\":1}"));
    assertThat(done).isNotDone();
    RELEASE.complete(null);
    assertThat(done.get(10, TimeUnit.SECONDS))
        .isEqualTo(envelope(0, "{\"n\":1}").appendBuffer(envelope(2, "{}")));
  }

  @Test
  void webSocketEchoes() throws Exception {
    WebSocketConnectOptions options = new WebSocketConnectOptions();
    options
        .setHost("127.0.0.1")
        .setPort(clientProxy.port())
        .setURI("/ws")
        .putHeader("E2b-Sandbox-Id", SANDBOX)
        .putHeader("E2b-Sandbox-Port", Integer.toString(upstream.actualPort()));
    WebSocket socket = await(vertx.createWebSocketClient().connect(options));
    try {
      CompletableFuture<String> echo = new CompletableFuture<>();
      socket.textMessageHandler(echo::complete);
      await(socket.writeTextMessage("client proxy, node proxy, sandbox"));
      assertThat(echo.get(10, TimeUnit.SECONDS)).isEqualTo("client proxy, node proxy, sandbox");
    } finally {
      await(socket.close());
    }
  }

  @Test
  void closedPortGivesTheNodeProxys502ThroughTheClientProxy() throws Exception {
    int closed;
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closed = socket.getLocalPort();
    }
    int port = closed;
    String body =
        onLoop(
            () ->
                client
                    .request(via(port + "-" + SANDBOX + ".sbx.test", "/"))
                    .compose(HttpClientRequest::send)
                    .compose(
                        response ->
                            response.body().map(b -> response.statusCode() + " " + b.toString())));
    assertThat(body).isEqualTo("502 " + ProxyError.portNotOpen(SANDBOX, port).json());
  }

  private static <T> T onLoop(Supplier<Future<T>> work) throws Exception {
    CompletableFuture<T> result = new CompletableFuture<>();
    vertx.runOnContext(
        v ->
            work.get()
                .onComplete(
                    done -> {
                      if (done.succeeded()) {
                        result.complete(done.result());
                      } else {
                        result.completeExceptionally(done.cause());
                      }
                    }));
    return result.get(30, TimeUnit.SECONDS);
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
