package dev.sbx.proxy;

import static dev.sbx.proxy.ProxyTestSupport.await;
import static dev.sbx.proxy.ProxyTestSupport.onLoop;
import static dev.sbx.proxy.ProxyTestSupport.writeZeros;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.sbx.proxy.ProxyTestSupport.Answer;
import dev.sbx.proxy.catalog.Catalog;
import dev.sbx.proxy.catalog.CatalogEntry;
import dev.sbx.proxy.catalog.CatalogEntry.RouteState;
import dev.sbx.proxy.catalog.InMemoryCatalog;
import dev.sbx.proxy.forward.ExchangeListener;
import dev.sbx.proxy.forward.ForwardingProxy;
import dev.sbx.proxy.forward.ForwardingSettings;
import dev.sbx.proxy.forward.Route;
import dev.sbx.proxy.forward.ServerTls;
import dev.sbx.proxy.routing.ProxyError;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import java.net.ServerSocket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The client proxy on loopback: a recording server stands in for a node proxy where the test checks
 * what the client proxy sends; for streaming, WebSocket and large bodies the chain is client proxy
 * → a node proxy built on the same engine ({@link ForwardingProxy} routing by a map, as the
 * orchestrator's NodeProxy does) → a stand-in sandbox server.
 */
class ClientProxyTest {

  private static final String DIRECT = "direct1";
  private static final String CHAIN = "chain1";
  private static final String PRIVATE = "private1";
  private static final String TOKEN = "traffic-secret-1";

  private static Vertx vertx;
  private static HttpClient client;
  private static HttpServer recorder;
  private static HttpServer sandbox;
  private static ForwardingProxy nodeProxy;
  private static ClientProxy proxy;
  private static final InMemoryCatalog CATALOG = new InMemoryCatalog();
  private static final AtomicInteger RECORDED = new AtomicInteger();
  private static final Map<String, CompletableFuture<Void>> RELEASES = new ConcurrentHashMap<>();
  private static final ListAppender<ILoggingEvent> ACCESS = new ListAppender<>();

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    client = vertx.createHttpClient();
    recorder =
        await(
            vertx
                .createHttpServer()
                .requestHandler(ClientProxyTest::record)
                .listen(0, "127.0.0.1"));
    sandbox =
        await(
            vertx
                .createHttpServer()
                .requestHandler(ClientProxyTest::serveSandbox)
                .webSocketHandler(
                    ws -> {
                      ws.textMessageHandler(ws::writeTextMessage);
                      ws.binaryMessageHandler(ws::writeBinaryMessage);
                    })
                .listen(0, "127.0.0.1"));
    nodeProxy =
        ForwardingProxy.start(
            vertx,
            new ForwardingSettings(
                "127.0.0.1",
                0,
                Duration.ofSeconds(620),
                5,
                Duration.ofMillis(100),
                Duration.ofSeconds(2),
                64,
                false,
                null),
            (target, request) ->
                Future.succeededFuture(
                    target.sandboxId().equals(CHAIN)
                        ? new Route.Upstream(
                            "127.0.0.1",
                            target.port(),
                            ProxyError.portNotOpen(target.sandboxId(), target.port()))
                        : new Route.Refused(ProxyError.sandboxNotFound(target.sandboxId()))),
            ExchangeListener.NONE);
    CATALOG.put(entry(DIRECT, recorder.actualPort(), null, RouteState.RUNNING));
    CATALOG.put(entry(CHAIN, nodeProxy.port(), null, RouteState.RUNNING));
    CATALOG.put(entry(PRIVATE, recorder.actualPort(), TOKEN, RouteState.RUNNING));
    CATALOG.put(entry("paused1", recorder.actualPort(), null, RouteState.PAUSED));
    CATALOG.put(entry("moving1", recorder.actualPort(), null, RouteState.TRANSITIONING));
    CATALOG.put(entry("lost1", freePort(), null, RouteState.RUNNING));
    ch.qos.logback.classic.Logger access =
        (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(AccessLog.LOGGER_NAME);
    ACCESS.start();
    access.addAppender(ACCESS);
    proxy = ClientProxy.start(ClientProxySettings.defaults("127.0.0.1", 0, 0), CATALOG);
  }

  @AfterAll
  static void stop() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    if (nodeProxy != null) {
      nodeProxy.close();
    }
    if (vertx != null) {
      await(vertx.close());
    }
  }

  private static CatalogEntry entry(
      String id, int nodePort, @Nullable String token, RouteState state) {
    return new CatalogEntry(id, "node1", "127.0.0.1", nodePort, token, state);
  }

  /** The stand-in node proxy that only records: what reached it comes back in headers. */
  private static void record(HttpServerRequest request) {
    RECORDED.incrementAndGet();
    request
        .body()
        .onSuccess(
            body -> {
              var response = request.response();
              response
                  .putHeader("X-Seen-Method", request.method().name())
                  .putHeader("X-Seen-Uri", request.uri())
                  .putHeader("X-Seen-Peer", String.valueOf(request.remoteAddress()));
              for (String name :
                  new String[] {
                    "Host",
                    "E2b-Sandbox-Id",
                    "E2b-Sandbox-Port",
                    "X-Forwarded-For",
                    "X-Forwarded-Proto",
                    "X-Forwarded-Host",
                    "X-Custom",
                    "e2b-traffic-access-token"
                  }) {
                response.putHeader("X-Seen-" + name, String.valueOf(request.getHeader(name)));
              }
              response.end(body);
            });
  }

  /** The stand-in sandbox behind the node proxy. */
  private static void serveSandbox(HttpServerRequest request) {
    String path = request.path() == null ? "/" : request.path();
    switch (path) {
      case "/connect-stream" -> {
        // a Connect server stream: one message, then (after the test's release) another and the
        // end-of-stream envelope
        var response =
            request
                .response()
                .setChunked(true)
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/connect+json");
        response.write(envelope(0, "{\"n\":1}"));
        var context = vertx.getOrCreateContext();
        release(request.getParam("id", ""))
            .thenRun(
                () ->
                    context.runOnContext(
                        v -> {
                          response.write(envelope(0, "{\"n\":2}"));
                          response.end(envelope(2, "{}"));
                        }));
      }
      case "/count" -> {
        AtomicLong bytes = new AtomicLong();
        request.handler(chunk -> bytes.addAndGet(chunk.length()));
        request.endHandler(v -> request.response().end(Long.toString(bytes.get())));
      }
      case "/download" -> {
        long size = Long.parseLong(request.getParam("size", "0"));
        var response =
            request.response().putHeader(HttpHeaders.CONTENT_LENGTH, Long.toString(size));
        writeZeros(response, size);
      }
      default ->
          request
              .response()
              .putHeader("X-Seen-Host", String.valueOf(request.getHeader("Host")))
              .end("sandbox " + request.uri());
    }
  }

  private static CompletableFuture<Void> release(String id) {
    return RELEASES.computeIfAbsent(id, k -> new CompletableFuture<>());
  }

  static Buffer envelope(int flags, String json) {
    byte[] data = json.getBytes(StandardCharsets.UTF_8);
    return Buffer.buffer().appendByte((byte) flags).appendInt(data.length).appendBytes(data);
  }

  private static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static RequestOptions via(HttpMethod method, String host, String uri) {
    return ProxyTestSupport.options(proxy.port(), method, host, uri);
  }

  private static Answer send(RequestOptions options, @Nullable String body) throws Exception {
    return ProxyTestSupport.send(vertx, client, options, body);
  }

  private static Answer get(String host, String uri, String... headers) throws Exception {
    RequestOptions options = via(HttpMethod.GET, host, uri);
    for (int i = 0; i < headers.length; i += 2) {
      options.putHeader(headers[i], headers[i + 1]);
    }
    return send(options, null);
  }

  private static Answer getFrom(int port, String uri) throws Exception {
    return send(ProxyTestSupport.options(port, HttpMethod.GET, "127.0.0.1", uri), null);
  }

  // ---- routing and what reaches the node ----

  @Test
  void hostRoutingKeepsHostPathQueryAndSetsForwardedHeaders() throws Exception {
    String host = "3000-" + DIRECT + "-legacyclient.sbx.test";
    RequestOptions options =
        via(HttpMethod.POST, host, "/a/b?x=1&y=%20z")
            .putHeader("X-Custom", "kept")
            .putHeader("X-Forwarded-For", "6.6.6.6")
            .putHeader("X-Forwarded-Host", "spoofed.example");
    Answer answer = send(options, "payload");

    assertThat(answer.status()).isEqualTo(200);
    assertThat(answer.body()).isEqualTo("payload");
    assertThat(answer.headers().get("X-Seen-Method")).isEqualTo("POST");
    assertThat(answer.headers().get("X-Seen-Uri")).isEqualTo("/a/b?x=1&y=%20z");
    assertThat(answer.headers().get("X-Seen-Host")).isEqualTo(host + ":" + proxy.port());
    assertThat(answer.headers().get("X-Seen-X-Custom")).isEqualTo("kept");
    assertThat(answer.headers().get("X-Seen-X-Forwarded-For")).isEqualTo("127.0.0.1");
    assertThat(answer.headers().get("X-Seen-X-Forwarded-Proto")).isEqualTo("http");
    assertThat(answer.headers().get("X-Seen-X-Forwarded-Host"))
        .isEqualTo(host + ":" + proxy.port());
  }

  @Test
  void headerRoutingKeepsTheSandboxHeaders() throws Exception {
    for (String host : new String[] {"localhost", "127.0.0.1", "sandbox.sbx.test"}) {
      Answer answer = get(host, "/health", "E2b-Sandbox-Id", DIRECT, "E2b-Sandbox-Port", "49983");
      assertThat(answer.status()).as(host).isEqualTo(200);
      assertThat(answer.headers().get("X-Seen-E2b-Sandbox-Id")).isEqualTo(DIRECT);
      assertThat(answer.headers().get("X-Seen-E2b-Sandbox-Port")).isEqualTo("49983");
      assertThat(answer.headers().get("X-Seen-Host")).startsWith(host);
    }
  }

  @Test
  void signedFileUrlWithHostRoutingAndNoHeadersReachesTheSandbox() throws Exception {
    String uri =
        "/files?path=%2Fhome%2Fuser%2Fa.txt&username=user&signature=v1_abc"
            + "&signature_expiration=1893456000";
    Answer answer = get("49983-" + DIRECT + ".sbx.test", uri);
    assertThat(answer.status()).isEqualTo(200);
    assertThat(answer.headers().get("X-Seen-Uri")).isEqualTo(uri);
    assertThat(answer.headers().get("X-Seen-E2b-Sandbox-Id")).isEqualTo("null");
  }

  @Test
  void signedFileUrlOnTheSharedAddressFindsItsSandboxByTheSignature() throws Exception {
    String token = "envd-token-of-signed1";
    CATALOG.put(
        new CatalogEntry(
            "signed1",
            "node1",
            "127.0.0.1",
            recorder.actualPort(),
            null,
            RouteState.RUNNING,
            token));
    try {
      String path = "/home/user/a b.txt";
      long expiration = 1893456000L;
      String read = sign(path + ":read:user:" + token + ":" + expiration);
      String uri =
          "/files?path=%2Fhome%2Fuser%2Fa%20b.txt&username=user&signature="
              + URLEncoder.encode(read, StandardCharsets.UTF_8)
              + "&signature_expiration="
              + expiration;
      Answer answer = get("127.0.0.1", uri);
      assertThat(answer.status()).isEqualTo(200);
      assertThat(answer.headers().get("X-Seen-Uri")).isEqualTo(uri);
      assertThat(answer.headers().get("X-Seen-Host")).startsWith("127.0.0.1");
      // the node proxy routes by these: the request itself named no sandbox
      assertThat(answer.headers().get("X-Seen-E2b-Sandbox-Id")).isEqualTo("signed1");
      assertThat(answer.headers().get("X-Seen-E2b-Sandbox-Port")).isEqualTo("49983");

      // a write signature is not a read one, a forged one matches nobody: the usual 400
      String write = sign(path + ":write:user:" + token + ":" + expiration);
      assertPlain400(
          get(
              "127.0.0.1",
              uri.replace(
                  URLEncoder.encode(read, StandardCharsets.UTF_8),
                  URLEncoder.encode(write, StandardCharsets.UTF_8))),
          "Invalid host");
      assertPlain400(get("127.0.0.1", "/files?path=x&signature=v1_forged"), "Invalid host");
      assertPlain400(get("127.0.0.1", "/other?signature=" + read), "Invalid host");
    } finally {
      CATALOG.remove("signed1");
    }
  }

  private static String sign(String payload) throws Exception {
    byte[] digest =
        java.security.MessageDigest.getInstance("SHA-256")
            .digest(payload.getBytes(StandardCharsets.UTF_8));
    return "v1_" + java.util.Base64.getEncoder().withoutPadding().encodeToString(digest);
  }

  @Test
  void nodeConnectionsAreKeptAlive() throws Exception {
    String host = "3000-" + DIRECT + ".sbx.test";
    String first = get(host, "/one").headers().get("X-Seen-Peer");
    String second = get(host, "/two").headers().get("X-Seen-Peer");
    assertThat(first).isNotEqualTo("null").isEqualTo(second);
  }

  // ---- errors ----

  @Test
  void badHostOrHeadersArePlainText400s() throws Exception {
    assertPlain400(get("localhost", "/", "E2b-Sandbox-Id", DIRECT), "missing header");
    assertPlain400(get("localhost", "/", "E2b-Sandbox-Port", "3000"), "missing header");
    assertPlain400(
        get("localhost", "/", "E2b-Sandbox-Id", DIRECT, "E2b-Sandbox-Port", "x"),
        "Invalid sandbox port");
    assertPlain400(get("localhost", "/"), "Invalid host");
    assertPlain400(get("3000-Bad_Id.sbx.test", "/"), "Invalid sandbox ID");
    assertThat(get("3000-" + DIRECT + ".sbx.test", "/after").status()).isEqualTo(200);
  }

  private static void assertPlain400(Answer answer, String message) {
    assertThat(answer.status()).isEqualTo(400);
    assertThat(answer.headers().get("Content-Type")).startsWith("text/plain");
    assertThat(answer.body().strip()).isEqualTo(message);
  }

  @Test
  void unknownAndPausedSandboxesAre502NotFound() throws Exception {
    for (String id : new String[] {"unknown1", "paused1"}) {
      Answer answer = get("49983-" + id + ".sbx.test", "/health");
      assertThat(answer.status()).as(id).isEqualTo(502);
      assertThat(answer.headers().get("Content-Type")).isEqualTo(ProxyError.JSON_CONTENT_TYPE);
      assertThat(answer.body())
          .isEqualTo(
              "{\"sandboxId\":\""
                  + id
                  + "\",\"message\":\"The sandbox was not found\",\"code\":502}");
    }
  }

  @Test
  void browsersGetAnHtmlPage() throws Exception {
    Answer answer =
        get(
            "3000-unknown2.sbx.test",
            "/",
            "User-Agent",
            "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Accept",
            "text/html,*/*;q=0.8");
    assertThat(answer.status()).isEqualTo(502);
    assertThat(answer.headers().get("Content-Type")).isEqualTo(ProxyError.HTML_CONTENT_TYPE);
    assertThat(answer.body()).contains("<html>").contains("The sandbox was not found");
  }

  @Test
  void transitioningSandboxIs409() throws Exception {
    Answer answer = get("49983-moving1.sbx.test", "/health");
    assertThat(answer.status()).isEqualTo(409);
    assertThat(answer.body()).isEqualTo(ProxyError.transitioning("moving1").json());
  }

  @Test
  void trafficTokenIsRequiredOnUserPortsOfPrivateSandboxes() throws Exception {
    String host = "3000-" + PRIVATE + ".sbx.test";
    int before = RECORDED.get();
    Answer missing = get(host, "/");
    assertThat(missing.status()).isEqualTo(403);
    assertThat(missing.body()).isEqualTo(ProxyError.trafficTokenMissing(PRIVATE).json());
    Answer wrong = get(host, "/", "e2b-traffic-access-token", "traffic-secret-2");
    assertThat(wrong.status()).isEqualTo(403);
    assertThat(wrong.body()).isEqualTo(ProxyError.trafficTokenInvalid(PRIVATE).json());
    assertThat(RECORDED.get()).isEqualTo(before);

    Answer right = get(host, "/", "e2b-traffic-access-token", TOKEN);
    assertThat(right.status()).isEqualTo(200);
    assertThat(right.headers().get("X-Seen-e2b-traffic-access-token")).isEqualTo(TOKEN);
    // envd checks its own token: the envd port needs no traffic token
    assertThat(get("49983-" + PRIVATE + ".sbx.test", "/health").status()).isEqualTo(200);
  }

  @Test
  void envdControlRoutesAre404AndNeverLeaveTheProxy() throws Exception {
    int before = RECORDED.get();
    for (String path : new String[] {"/init", "//init", "/files/../init", "/%69nit", "/upgrade"}) {
      RequestOptions options =
          via(HttpMethod.POST, "127.0.0.1", path)
              .putHeader("E2b-Sandbox-Id", DIRECT)
              .putHeader("E2b-Sandbox-Port", "49983");
      Answer answer = send(options, "{}");
      assertThat(answer.status()).as(path).isEqualTo(404);
      assertThat(answer.body()).as(path).contains("\"code\":404");
    }
    assertThat(RECORDED.get()).isEqualTo(before);
  }

  @Test
  void unreachableNodeIs502NotFound() throws Exception {
    Answer answer = get("49983-lost1.sbx.test", "/health");
    assertThat(answer.status()).isEqualTo(502);
    assertThat(answer.body()).isEqualTo(ProxyError.sandboxNotFound("lost1").json());
  }

  @Test
  void catalogThatAnswersLaterIsAwaitedWithoutBlocking() throws Exception {
    Catalog slow =
        new DelegatingCatalog(CATALOG) {
          @Override
          public CompletionStage<Optional<CatalogEntry>> find(String sandboxId) {
            return CompletableFuture.supplyAsync(
                () -> CATALOG.find(sandboxId).toCompletableFuture().join(),
                CompletableFuture.delayedExecutor(50, TimeUnit.MILLISECONDS));
          }
        };
    try (ClientProxy slowProxy =
        ClientProxy.start(ClientProxySettings.defaults("127.0.0.1", 0, 0), slow)) {
      RequestOptions options =
          ProxyTestSupport.options(
              slowProxy.port(), HttpMethod.POST, "3000-" + DIRECT + ".sbx.test", "/slow");
      Answer answer = send(options, "body held while the catalog answers");
      assertThat(answer.status()).isEqualTo(200);
      assertThat(answer.body()).isEqualTo("body held while the catalog answers");
      Answer missing =
          send(
              ProxyTestSupport.options(
                  slowProxy.port(), HttpMethod.GET, "3000-unknown3.sbx.test", "/"),
              null);
      assertThat(missing.status()).isEqualTo(502);
    }
  }

  @Test
  void failingCatalogIs502AndTheProxyKeepsServing() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    Catalog failing =
        new DelegatingCatalog(CATALOG) {
          @Override
          public CompletionStage<Optional<CatalogEntry>> find(String sandboxId) {
            if (calls.incrementAndGet() == 1) {
              return CompletableFuture.failedFuture(new IllegalStateException("redis is down"));
            }
            throw new IllegalStateException("redis is still down");
          }
        };
    try (ClientProxy failingProxy =
        ClientProxy.start(ClientProxySettings.defaults("127.0.0.1", 0, 0), failing)) {
      for (int i = 0; i < 2; i++) {
        Answer answer =
            send(
                ProxyTestSupport.options(
                    failingProxy.port(), HttpMethod.GET, "3000-" + DIRECT + ".sbx.test", "/"),
                null);
        assertThat(answer.status()).isEqualTo(502);
        assertThat(answer.body()).isEqualTo(ProxyError.catalogUnavailable(DIRECT).json());
      }
    }
  }

  // ---- streaming through client proxy → node proxy → sandbox ----

  @Test
  void connectStreamMessagesPassOneByOneThroughTheChain() throws Exception {
    String id = "stream1";
    CompletableFuture<Buffer> first = new CompletableFuture<>();
    Buffer all = Buffer.buffer();
    CompletableFuture<Buffer> done = new CompletableFuture<>();
    onLoop(
        vertx,
        () ->
            client
                .request(
                    via(
                        HttpMethod.POST,
                        sandbox.actualPort() + "-" + CHAIN + ".sbx.test",
                        "/connect-stream?id=" + id))
                .compose(
                    request ->
                        request
                            .putHeader(HttpHeaders.CONTENT_TYPE, "application/connect+json")
                            .send(envelope(0, "{}")))
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
    // the sandbox sends the second message only after this release
    assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(envelope(0, "{\"n\":1}"));
    assertThat(done).isNotDone();
    release(id).complete(null);
    assertThat(done.get(10, TimeUnit.SECONDS))
        .isEqualTo(
            envelope(0, "{\"n\":1}")
                .appendBuffer(envelope(0, "{\"n\":2}"))
                .appendBuffer(envelope(2, "{}")));
  }

  @Test
  void webSocketEchoesThroughTheChain() throws Exception {
    WebSocketConnectOptions options = new WebSocketConnectOptions();
    options
        .setHost("127.0.0.1")
        .setPort(proxy.port())
        .setURI("/ws")
        .putHeader("E2b-Sandbox-Id", CHAIN)
        .putHeader("E2b-Sandbox-Port", Integer.toString(sandbox.actualPort()));
    WebSocket socket = await(vertx.createWebSocketClient().connect(options));
    try {
      CompletableFuture<String> echo = new CompletableFuture<>();
      socket.textMessageHandler(echo::complete);
      await(socket.writeTextMessage("hello through two proxies"));
      assertThat(echo.get(10, TimeUnit.SECONDS)).isEqualTo("hello through two proxies");
      CompletableFuture<Buffer> binary = new CompletableFuture<>();
      socket.binaryMessageHandler(binary::complete);
      await(socket.writeBinaryMessage(Buffer.buffer(new byte[200_000])));
      assertThat(binary.get(10, TimeUnit.SECONDS).length()).isEqualTo(200_000);
    } finally {
      await(socket.close());
    }
  }

  @Test
  void webSocketByHostRoutingOnAUserPort() throws Exception {
    WebSocketConnectOptions options = new WebSocketConnectOptions();
    options
        .setHost("127.0.0.1")
        .setPort(proxy.port())
        .setURI("/ws")
        .putHeader("Host", sandbox.actualPort() + "-" + CHAIN + ".sbx.test");
    WebSocket socket = await(vertx.createWebSocketClient().connect(options));
    try {
      CompletableFuture<String> echo = new CompletableFuture<>();
      socket.textMessageHandler(echo::complete);
      await(socket.writeTextMessage("by host"));
      assertThat(echo.get(10, TimeUnit.SECONDS)).isEqualTo("by host");
    } finally {
      await(socket.close());
    }
  }

  @Test
  void largeUploadAndDownloadStreamThroughTheChain() throws Exception {
    long size = 64L * 1024 * 1024;
    String host = sandbox.actualPort() + "-" + CHAIN + ".sbx.test";
    CompletableFuture<String> counted = new CompletableFuture<>();
    onLoop(
        vertx,
        () ->
            client
                .request(via(HttpMethod.POST, host, "/count"))
                .map(
                    upload -> {
                      upload.putHeader(HttpHeaders.CONTENT_LENGTH, Long.toString(size));
                      upload
                          .response()
                          .compose(HttpClientResponse::body)
                          .onSuccess(b -> counted.complete(b.toString()));
                      upload.setWriteQueueMaxSize(256 * 1024);
                      writeZeros(upload, size);
                      return upload;
                    }));
    assertThat(counted.get(60, TimeUnit.SECONDS)).isEqualTo(Long.toString(size));

    AtomicLong received = new AtomicLong();
    CompletableFuture<Long> end = new CompletableFuture<>();
    onLoop(
        vertx,
        () ->
            client
                .request(via(HttpMethod.GET, host, "/download?size=" + size))
                .compose(HttpClientRequest::send)
                .map(
                    response -> {
                      response.handler(chunk -> received.addAndGet(chunk.length()));
                      response.endHandler(v -> end.complete(received.get()));
                      return response;
                    }));
    assertThat(end.get(60, TimeUnit.SECONDS)).isEqualTo(size);
  }

  // ---- health, metrics, access log ----

  @Test
  void healthAndMetricsOnTheHealthPort() throws Exception {
    assertThat(get("3000-" + DIRECT + ".sbx.test", "/metered", "X-Custom", "1").status())
        .isEqualTo(200);
    assertThat(get("3000-unknown4.sbx.test", "/").status()).isEqualTo(502);

    Answer health = getFrom(proxy.healthPort(), "/health");
    assertThat(health.status()).isEqualTo(200);
    assertThat(health.body()).isEqualTo("{\"status\":\"healthy\"}");

    Answer metrics = getFrom(proxy.healthPort(), "/metrics");
    assertThat(metrics.status()).isEqualTo(200);
    assertThat(metrics.headers().get("Content-Type")).startsWith("text/plain");
    assertThat(metrics.body())
        .containsPattern(
            "sbx_proxy_requests_seconds_count\\{route=\"port\",sandbox=\""
                + DIRECT
                + "\",status=\"2xx\"} [1-9]")
        .containsPattern(
            "sbx_proxy_requests_seconds_count\\{route=\"port\",sandbox=\"unknown4\","
                + "status=\"5xx\"} 1")
        .contains("sbx_proxy_response_body_bytes_sum")
        .contains("sbx_proxy_request_body_bytes_count");

    assertThat(getFrom(proxy.healthPort(), "/other").status()).isEqualTo(404);
  }

  @Test
  void accessLogHasOneLinePerRequest() throws Exception {
    String uri = "/logged?marker=" + System.nanoTime();
    assertThat(get("3000-" + DIRECT + ".sbx.test", uri).status()).isEqualTo(200);
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions()
        .untilAsserted(
            () ->
                assertThat(
                        ACCESS.list.stream()
                            .map(ILoggingEvent::getFormattedMessage)
                            .filter(line -> line.contains(uri)))
                    .singleElement()
                    .asString()
                    .contains("\"GET " + uri + "\"")
                    .contains("sandbox=" + DIRECT)
                    .contains("port=3000")
                    .contains("status=200"));
  }

  // ---- TLS ----

  @Test
  void tlsWithAWildcardCertificateFromPemFiles(@TempDir Path directory) throws Exception {
    ServerTls tls = TestCertificates.wildcard(directory, "sbx.test");
    try (ClientProxy tlsProxy =
        ClientProxy.start(ClientProxySettings.defaults("127.0.0.1", 0, 0).withTls(tls), CATALOG)) {
      HttpClient tlsClient =
          vertx.createHttpClient(
              new HttpClientOptions().setSsl(true).setTrustAll(true).setVerifyHost(false));
      try {
        String host = "3000-" + DIRECT + ".sbx.test";
        Answer answer =
            ProxyTestSupport.send(
                vertx,
                tlsClient,
                ProxyTestSupport.options(tlsProxy.port(), HttpMethod.GET, host, "/secure"),
                null);
        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.headers().get("X-Seen-Uri")).isEqualTo("/secure");
        assertThat(answer.headers().get("X-Seen-X-Forwarded-Proto")).isEqualTo("https");
      } finally {
        await(tlsClient.close());
      }
      HttpClient h2Client =
          vertx.createHttpClient(
              new HttpClientOptions()
                  .setSsl(true)
                  .setUseAlpn(true)
                  .setProtocolVersion(HttpVersion.HTTP_2)
                  .setTrustAll(true)
                  .setVerifyHost(false));
      try {
        assertH2(h2Client, tlsProxy.port(), "https");
      } finally {
        await(h2Client.close());
      }
    }
  }

  @Test
  void http2WithPriorKnowledgeIsForwardedToTheNodeAsHttp11() throws Exception {
    HttpClient h2Client =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setProtocolVersion(HttpVersion.HTTP_2)
                .setHttp2ClearTextUpgrade(false));
    try {
      assertH2(h2Client, proxy.port(), "http");
    } finally {
      await(h2Client.close());
    }
  }

  /** A POST with a body and a GET over h2; the recorder sees HTTP/1.1 with Host and the body. */
  private static void assertH2(HttpClient h2Client, int port, String scheme) throws Exception {
    String host = "3000-" + DIRECT + ".sbx.test";
    String answer =
        onLoop(
            vertx,
            () ->
                h2Client
                    .request(ProxyTestSupport.options(port, HttpMethod.POST, host, "/h2?q=1"))
                    .compose(request -> request.send("over h2"))
                    .compose(
                        response ->
                            response
                                .body()
                                .map(
                                    body ->
                                        response.version()
                                            + " "
                                            + response.statusCode()
                                            + " "
                                            + response.getHeader("X-Seen-Host")
                                            + " "
                                            + response.getHeader("X-Seen-Uri")
                                            + " "
                                            + response.getHeader("X-Seen-X-Forwarded-Proto")
                                            + " "
                                            + body)));
    assertThat(answer)
        .isEqualTo("HTTP_2 200 " + host + ":" + port + " /h2?q=1 " + scheme + " over h2");
    Answer missing =
        ProxyTestSupport.send(
            vertx,
            h2Client,
            ProxyTestSupport.options(port, HttpMethod.GET, "3000-unknown5.sbx.test", "/"),
            null);
    assertThat(missing.status()).isEqualTo(502);
    assertThat(missing.body()).isEqualTo(ProxyError.sandboxNotFound("unknown5").json());
  }

  // ---- start and settings ----

  @Test
  void busyHealthPortFailsTheStartAndReleasesTheProxyPort() throws Exception {
    try (ServerSocket busy = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      int proxyPort = freePort();
      assertThatThrownBy(
              () ->
                  ClientProxy.start(
                      ClientProxySettings.defaults("127.0.0.1", proxyPort, busy.getLocalPort()),
                      CATALOG))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("health listener");
      // the proxy's own listener was closed again: the port can be bound
      try (ServerSocket again =
          new ServerSocket(proxyPort, 1, java.net.InetAddress.getLoopbackAddress())) {
        assertThat(again.getLocalPort()).isEqualTo(proxyPort);
      }
    }
  }

  @Test
  void settingsRejectBadValues() {
    assertThatThrownBy(() -> ClientProxySettings.defaults("127.0.0.1", 70000, 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ClientProxySettings.defaults("127.0.0.1", 3002, 3002))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("differ");
    assertThatThrownBy(
            () ->
                new ClientProxySettings(
                    "127.0.0.1", 0, 0, Duration.ofSeconds(1), Duration.ofSeconds(1), 0, true, null))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /** A hand-written catalog that passes everything to another one; tests override {@code find}. */
  private abstract static class DelegatingCatalog implements Catalog {
    private final Catalog delegate;

    DelegatingCatalog(Catalog delegate) {
      this.delegate = delegate;
    }

    @Override
    public CompletionStage<List<CatalogEntry>> entries() {
      return delegate.entries();
    }

    @Override
    public void put(CatalogEntry entry) {
      delegate.put(entry);
    }

    @Override
    public void remove(String sandboxId) {
      delegate.remove(sandboxId);
    }

    @Override
    public void close() {}
  }
}
