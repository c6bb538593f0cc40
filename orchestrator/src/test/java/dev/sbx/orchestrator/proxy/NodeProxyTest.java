package dev.sbx.orchestrator.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sbx.proxy.routing.EnvdControlRoutes;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.streams.WriteStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The proxy against loopback upstreams standing in for sandboxes (127.0.0.1 only). */
class NodeProxyTest {

  private static final String SANDBOX = "sbxtproxy1";

  private static Vertx vertx;
  private static HttpServer upstream;
  private static HttpClient client;
  private static NodeProxy proxy;
  private static final InMemorySandboxAddresses ADDRESSES = new InMemorySandboxAddresses();
  private static final CompletableFuture<Void> STREAM_RELEASE = new CompletableFuture<>();
  private static final CompletableFuture<String> UPLOAD_FIRST_CHUNK = new CompletableFuture<>();
  private static final CompletableFuture<Void> HOLD_RELEASE = new CompletableFuture<>();

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    upstream =
        await(
            vertx
                .createHttpServer()
                .requestHandler(NodeProxyTest::serve)
                .webSocketHandler(
                    ws -> {
                      ws.textMessageHandler(ws::writeTextMessage);
                      ws.binaryMessageHandler(ws::writeBinaryMessage);
                    })
                .listen(0, "127.0.0.1"));
    ADDRESSES.put(SANDBOX, "127.0.0.1");
    proxy = NodeProxy.start(NodeProxySettings.defaults("127.0.0.1", 0), ADDRESSES);
    client = vertx.createHttpClient();
  }

  @AfterAll
  static void stop() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    if (vertx != null) {
      await(vertx.close());
    }
  }

  /** The stand-in sandbox server. */
  private static void serve(HttpServerRequest request) {
    String path = request.path() == null ? "/" : request.path();
    switch (path) {
      case "/stream" -> {
        var response = request.response().setChunked(true);
        response.write("first");
        var context = vertx.getOrCreateContext();
        STREAM_RELEASE.thenRun(() -> context.runOnContext(v -> response.end("second")));
      }
      case "/hold" -> {
        var response = request.response().setChunked(true);
        response.write("held");
        var context = vertx.getOrCreateContext();
        HOLD_RELEASE.thenRun(() -> context.runOnContext(v -> response.end()));
      }
      case "/upload-stream" -> {
        StringBuilder received = new StringBuilder();
        request.handler(
            chunk -> {
              received.append(chunk.toString(StandardCharsets.UTF_8));
              UPLOAD_FIRST_CHUNK.complete(received.toString());
            });
        request.endHandler(v -> request.response().end(received.toString()));
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
              .body()
              .onSuccess(
                  body ->
                      request
                          .response()
                          .putHeader("X-Seen-Method", request.method().name())
                          .putHeader("X-Seen-Peer", String.valueOf(request.remoteAddress()))
                          .putHeader("X-Seen-Uri", request.uri())
                          .putHeader("X-Seen-Host", String.valueOf(request.getHeader("Host")))
                          .putHeader("X-Seen-Custom", String.valueOf(request.getHeader("X-Custom")))
                          .putHeader("X-Seen-Hop", String.valueOf(request.getHeader("X-Hop-Only")))
                          .putHeader(
                              "X-Seen-Forwarded-Host",
                              String.valueOf(request.getHeader("X-Forwarded-Host")))
                          .putHeader(
                              "X-Seen-Masked-Header",
                              String.valueOf(request.getHeader("Sbx-Masked-Host")))
                          .putHeader("Connection", "keep-alive, X-Resp-Hop")
                          .putHeader("X-Resp-Hop", "gone")
                          .end(body));
    }
  }

  private static final Buffer ZEROS = Buffer.buffer(new byte[64 * 1024]);

  /**
   * Writes {@code remaining} zero bytes to a request or response, as fast as its write queue
   * drains, then ends it.
   */
  private static void writeZeros(WriteStream<Buffer> stream, long remaining) {
    long left = remaining;
    while (left > 0 && !stream.writeQueueFull()) {
      int n = (int) Math.min(left, ZEROS.length());
      stream.write(n == ZEROS.length() ? ZEROS : ZEROS.slice(0, n));
      left -= n;
    }
    if (left == 0) {
      stream.drainHandler(null);
      stream.end();
      return;
    }
    long rest = left;
    stream.drainHandler(v -> writeZeros(stream, rest));
  }

  // ---- helpers ----

  record Answer(int status, MultiMap headers, String body) {}

  private static RequestOptions viaProxy(HttpMethod method, String host, String uri) {
    return new RequestOptions()
        .setServer(SocketAddress.inetSocketAddress(proxy.port(), "127.0.0.1"))
        .setMethod(method)
        .setURI(uri)
        .setHost(host)
        .setPort(proxy.port());
  }

  private static Answer send(RequestOptions options, @Nullable String body) throws Exception {
    return send(client, options, body);
  }

  private static Answer send(HttpClient via, RequestOptions options, @Nullable String body)
      throws Exception {
    return onLoop(
        () ->
            via.request(options)
                .compose(request -> body == null ? request.send() : request.send(body))
                .compose(
                    response ->
                        response
                            .body()
                            .map(
                                b ->
                                    new Answer(
                                        response.statusCode(),
                                        response.headers(),
                                        b.toString(StandardCharsets.UTF_8)))));
  }

  private static Answer get(String host, String uri, String... headers) throws Exception {
    RequestOptions options = viaProxy(HttpMethod.GET, host, uri);
    for (int i = 0; i < headers.length; i += 2) {
      options.putHeader(headers[i], headers[i + 1]);
    }
    return send(options, null);
  }

  private static String sandboxHost(int port) {
    return port + "-" + SANDBOX + ".sbx.test";
  }

  /**
   * Runs a chain of client calls on an event loop, so that response handlers are in place before
   * the first byte can arrive (set from the test thread, they could miss it).
   */
  private static <T> T onLoop(java.util.function.Supplier<Future<T>> work) throws Exception {
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

  private static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /** Reads one request head (up to the blank line) from {@code in}. */
  private static String readHead(java.io.InputStream in) throws java.io.IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new java.io.EOFException("closed after " + head);
      }
      head.append((char) b);
    }
    return head.toString();
  }

  /**
   * A keep-alive connection the upstream dropped without the proxy seeing it (a sandbox paused
   * through CRIU, resumed at the same address): the next request on it is reset. A request without
   * a body is sent once more on a new connection instead of answering a bare 502.
   */
  @Test
  void aResetOfAReusedConnectionIsRetriedOnANewOne() throws Exception {
    String sandbox = "sbxtstale1";
    try (ServerSocket server = new ServerSocket(0, 5, java.net.InetAddress.getLoopbackAddress())) {
      ADDRESSES.put(sandbox, "127.0.0.1");
      CompletableFuture<String> served =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  StringBuilder log = new StringBuilder();
                  java.net.Socket first = server.accept();
                  log.append(readHead(first.getInputStream()).lines().findFirst().orElseThrow());
                  first
                      .getOutputStream()
                      .write(
                          "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"
                              .getBytes(StandardCharsets.US_ASCII));
                  // the second request arrives on the kept connection: reset it unanswered
                  log.append(" | ")
                      .append(readHead(first.getInputStream()).lines().findFirst().orElseThrow());
                  first.setSoLinger(true, 0);
                  first.close();
                  try (java.net.Socket second = server.accept()) {
                    log.append(" | ")
                        .append(
                            readHead(second.getInputStream()).lines().findFirst().orElseThrow());
                    second
                        .getOutputStream()
                        .write(
                            "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsecond"
                                .getBytes(StandardCharsets.US_ASCII));
                    second.getOutputStream().flush();
                    second.getInputStream().read();
                  }
                  return log.toString();
                } catch (java.io.IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              });
      String host = server.getLocalPort() + "-" + sandbox + ".sbx.test";
      // one connection to the proxy: both requests go through the same event loop's pool
      HttpClient single =
          vertx.createHttpClient(
              new io.vertx.core.http.HttpClientOptions().setKeepAlive(true),
              new io.vertx.core.http.PoolOptions().setHttp1MaxSize(1));
      Answer first = send(single, viaProxy(HttpMethod.GET, host, "/one"), null);
      assertThat(first.status()).isEqualTo(200);
      assertThat(first.body()).isEqualTo("first");
      Answer second = send(single, viaProxy(HttpMethod.GET, host, "/two"), null);
      await(single.close());
      assertThat(second.status()).isEqualTo(200);
      assertThat(second.body()).isEqualTo("second");
      assertThat(served.get(30, TimeUnit.SECONDS))
          .isEqualTo("GET /one HTTP/1.1 | GET /two HTTP/1.1 | GET /two HTTP/1.1");
    } finally {
      ADDRESSES.remove(sandbox);
    }
  }

  // ---- routing ----

  @Test
  void hostRoutingForwardsMethodUriHostAndHeaders() throws Exception {
    RequestOptions options =
        viaProxy(HttpMethod.POST, sandboxHost(upstream.actualPort()), "/a/b?x=1&y=%20z")
            .putHeader("X-Custom", "kept")
            .putHeader("Connection", "keep-alive, X-Hop-Only")
            .putHeader("X-Hop-Only", "dropped");
    Answer answer = send(options, "payload");

    assertThat(answer.status()).isEqualTo(200);
    assertThat(answer.body()).isEqualTo("payload");
    assertThat(answer.headers().get("X-Seen-Method")).isEqualTo("POST");
    assertThat(answer.headers().get("X-Seen-Uri")).isEqualTo("/a/b?x=1&y=%20z");
    assertThat(answer.headers().get("X-Seen-Host"))
        .isEqualTo(sandboxHost(upstream.actualPort()) + ":" + proxy.port());
    assertThat(answer.headers().get("X-Seen-Custom")).isEqualTo("kept");
    assertThat(answer.headers().get("X-Seen-Hop")).isEqualTo("null");
    assertThat(answer.headers().get("X-Resp-Hop")).isNull();
  }

  @Test
  void hostWithoutPortIsPreservedAsSent() throws Exception {
    String host = sandboxHost(upstream.actualPort()) + "";
    Answer answer =
        onLoop(
            () ->
                client
                    .request(viaProxy(HttpMethod.GET, host, "/plain"))
                    .compose(
                        request -> {
                          request.authority(HostAndPort.authority(host));
                          return request.send();
                        })
                    .compose(
                        response ->
                            response
                                .body()
                                .map(
                                    b ->
                                        new Answer(
                                            response.statusCode(),
                                            response.headers(),
                                            b.toString()))));
    assertThat(answer.status()).isEqualTo(200);
    assertThat(answer.headers().get("X-Seen-Host")).isEqualTo(host);
  }

  @Test
  void upstreamConnectionsAreKeptAlive() throws Exception {
    String first = get(sandboxHost(upstream.actualPort()), "/one").headers().get("X-Seen-Peer");
    String second = get(sandboxHost(upstream.actualPort()), "/two").headers().get("X-Seen-Peer");
    assertThat(first).isNotEqualTo("null").isEqualTo(second);
  }

  @Test
  void upstreamConnectionsAreNeverReusedAcrossSandboxesOfOneAddress() throws Exception {
    // a new sandbox given the address of one that is gone must not get its kept-alive connection
    ADDRESSES.put("sbxtproxy2", "127.0.0.1");
    try {
      String first = get(sandboxHost(upstream.actualPort()), "/one").headers().get("X-Seen-Peer");
      String other =
          get(upstream.actualPort() + "-sbxtproxy2.sbx.test", "/two").headers().get("X-Seen-Peer");
      String again = get(sandboxHost(upstream.actualPort()), "/three").headers().get("X-Seen-Peer");
      assertThat(first).isNotEqualTo("null").isEqualTo(again);
      assertThat(other).isNotEqualTo("null").isNotEqualTo(first);
    } finally {
      ADDRESSES.remove("sbxtproxy2");
    }
  }

  @Test
  void headerRoutingOnLocalhostIpAndSharedHost() throws Exception {
    String port = Integer.toString(upstream.actualPort());
    for (String host : new String[] {"localhost", "127.0.0.1", "sandbox.sbx.test"}) {
      Answer answer = get(host, "/hello", "E2b-Sandbox-Id", SANDBOX, "E2b-Sandbox-Port", port);
      assertThat(answer.status()).as(host).isEqualTo(200);
      assertThat(answer.headers().get("X-Seen-Uri")).isEqualTo("/hello");
    }
  }

  @Test
  void badRoutingGivesPlainText400sAndTheProxyKeepsServing() throws Exception {
    assertPlain400(get("localhost", "/", "E2b-Sandbox-Id", SANDBOX), "missing header");
    assertPlain400(get("localhost", "/", "E2b-Sandbox-Port", "3000"), "missing header");
    assertPlain400(
        get("localhost", "/", "E2b-Sandbox-Id", SANDBOX, "E2b-Sandbox-Port", "http"),
        "Invalid sandbox port");
    assertPlain400(get("localhost", "/"), "Invalid host");
    assertPlain400(get("3000-Not_Valid.sbx.test", "/"), "Invalid sandbox ID");
    assertPlain400(get("abc-" + SANDBOX + ".sbx.test", "/"), "Invalid sandbox port");

    assertThat(get(sandboxHost(upstream.actualPort()), "/after").status()).isEqualTo(200);
  }

  private static void assertPlain400(Answer answer, String message) {
    assertThat(answer.status()).isEqualTo(400);
    assertThat(answer.body().strip()).isEqualTo(message);
    assertThat(answer.headers().get("Content-Type")).startsWith("text/plain");
  }

  // ---- maskRequestHost ----

  @Test
  void maskedHostHeaderReplacesHostAndIsNotPassedOn() throws Exception {
    String host = sandboxHost(upstream.actualPort());
    Answer answer = get(host, "/masked", "Sbx-Masked-Host", "masked.example:8080");
    assertThat(answer.status()).isEqualTo(200);
    assertThat(answer.headers().get("X-Seen-Host")).isEqualTo("masked.example:8080");
    assertThat(answer.headers().get("X-Seen-Forwarded-Host")).isEqualTo(host + ":" + proxy.port());
    assertThat(answer.headers().get("X-Seen-Masked-Header")).isEqualTo("null");
  }

  @Test
  void invalidMaskedHostHeaderIs400Json() throws Exception {
    Answer answer =
        get(sandboxHost(upstream.actualPort()), "/masked", "Sbx-Masked-Host", "bad host/x");
    assertThat(answer.status()).isEqualTo(400);
    assertThat(answer.headers().get("Content-Type")).isEqualTo("application/json; charset=utf-8");
    assertThat(answer.body()).contains("\"code\":400").contains("Sbx-Masked-Host");
  }

  // ---- per-sandbox connection limit ----

  @Test
  void connectionLimitFromTheSettingsGives429() throws Exception {
    NodeProxySettings limited =
        NodeProxySettings.defaults("127.0.0.1", 0).withMaxConnectionsPerSandbox(1);
    assertThat(limited.forwarding().maxConnectionsPerSandbox()).isEqualTo(1);
    assertThat(NodeProxySettings.defaults("127.0.0.1", 0).forwarding().maxConnectionsPerSandbox())
        .isEqualTo(-1);
    try (NodeProxy one = NodeProxy.start(limited, ADDRESSES)) {
      String host = sandboxHost(upstream.actualPort());
      RequestOptions hold =
          new RequestOptions()
              .setServer(SocketAddress.inetSocketAddress(one.port(), "127.0.0.1"))
              .setURI("/hold")
              .setHost(host)
              .setPort(one.port());
      CompletableFuture<String> firstChunk = new CompletableFuture<>();
      CompletableFuture<Void> ended = new CompletableFuture<>();
      onLoop(
          () ->
              client
                  .request(hold)
                  .compose(HttpClientRequest::send)
                  .map(
                      response -> {
                        response.handler(chunk -> firstChunk.complete(chunk.toString()));
                        response.endHandler(v -> ended.complete(null));
                        return response;
                      }));
      assertThat(firstChunk.get(10, TimeUnit.SECONDS)).isEqualTo("held");

      Answer refused = send(new RequestOptions(hold).setURI("/second"), null);
      assertThat(refused.status()).isEqualTo(429);
      assertThat(refused.body()).contains("\"code\":429").contains(SANDBOX);

      HOLD_RELEASE.complete(null);
      ended.get(10, TimeUnit.SECONDS);
      // the slot is given back once the proxy has finished the held exchange
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      int status;
      do {
        status = send(new RequestOptions(hold).setURI("/third"), null).status();
      } while (status == 429 && System.nanoTime() < deadline);
      assertThat(status).isEqualTo(200);
    }
  }

  // ---- errors ----

  @Test
  void unknownSandboxIs502NotFoundJson() throws Exception {
    Answer answer = get("3000-nosuchsandbox.sbx.test", "/");
    assertThat(answer.status()).isEqualTo(502);
    assertThat(answer.headers().get("Content-Type")).isEqualTo("application/json; charset=utf-8");
    assertThat(answer.body())
        .isEqualTo(
            "{\"sandboxId\":\"nosuchsandbox\",\"message\":\"The sandbox was not found\","
                + "\"code\":502}");
  }

  @Test
  void browsersGetAnHtmlPage() throws Exception {
    Answer answer =
        get(
            "3000-nosuchsandbox.sbx.test",
            "/",
            "User-Agent",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
            "Accept",
            "text/html,application/xhtml+xml,*/*;q=0.8");
    assertThat(answer.status()).isEqualTo(502);
    assertThat(answer.headers().get("Content-Type")).startsWith("text/html");
    assertThat(answer.body()).contains("The sandbox was not found").contains("nosuchsandbox");
  }

  @Test
  void closedPortIs502AfterFiveDialsWithBackoff() throws Exception {
    int closed = freePort();
    long started = System.nanoTime();
    Answer answer = get(sandboxHost(closed), "/");
    long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

    assertThat(answer.status()).isEqualTo(502);
    assertThat(answer.headers().get("Content-Type")).isEqualTo("application/json; charset=utf-8");
    assertThat(answer.body())
        .isEqualTo(
            "{\"sandboxId\":\""
                + SANDBOX
                + "\",\"message\":\"The sandbox is running but port is not open\",\"port\":"
                + closed
                + ",\"code\":502}");
    // waits of 100 + 200 + 300 + 400 ms between the five attempts
    assertThat(elapsedMs).isGreaterThanOrEqualTo(1000).isLessThan(10_000);
  }

  @Test
  void portThatOpensWithin300MsGetsThrough() throws Exception {
    int late = freePort();
    CompletableFuture<HttpServer> lateServer = new CompletableFuture<>();
    vertx.setTimer(
        300,
        id ->
            vertx
                .createHttpServer()
                .requestHandler(request -> request.response().end("late"))
                .listen(late, "127.0.0.1")
                .onComplete(
                    ar -> {
                      if (ar.succeeded()) {
                        lateServer.complete(ar.result());
                      } else {
                        lateServer.completeExceptionally(ar.cause());
                      }
                    }));
    try {
      Answer answer = get(sandboxHost(late), "/");
      assertThat(answer.status()).isEqualTo(200);
      assertThat(answer.body()).isEqualTo("late");
    } finally {
      await(lateServer.get(10, TimeUnit.SECONDS).close());
    }
  }

  @Test
  void envdControlRoutesAre404AndNeverReachTheSandbox() throws Exception {
    int envdPort = EnvdControlRoutes.ENVD_PORT;
    for (String path :
        new String[] {
          "/init",
          "/freeze",
          "/unfreeze",
          "/collapse",
          "/fsfreeze",
          "/fsthaw",
          "/upgrade",
          "//init",
          "/files/../init",
          "/%69nit",
          "/init/"
        }) {
      RequestOptions options =
          viaProxy(HttpMethod.POST, "localhost", path)
              .putHeader("E2b-Sandbox-Id", SANDBOX)
              .putHeader("E2b-Sandbox-Port", Integer.toString(envdPort));
      Answer answer = send(options, "{}");
      assertThat(answer.status()).as(path).isEqualTo(404);
      assertThat(answer.body()).as(path).contains("\"code\":404").contains(SANDBOX);
    }
  }

  // ---- streaming ----

  @Test
  void responseChunksPassOneByOne() throws Exception {
    CompletableFuture<String> first = new CompletableFuture<>();
    StringBuilder all = new StringBuilder();
    CompletableFuture<String> done = new CompletableFuture<>();
    onLoop(
        () ->
            client
                .request(viaProxy(HttpMethod.GET, sandboxHost(upstream.actualPort()), "/stream"))
                .compose(HttpClientRequest::send)
                .map(
                    response -> {
                      response.handler(
                          chunk -> {
                            all.append(chunk.toString(StandardCharsets.UTF_8));
                            first.complete(all.toString());
                          });
                      response.endHandler(v -> done.complete(all.toString()));
                      return response;
                    }));
    // the upstream sends "second" only after this release, so "first" must arrive on its own
    assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("first");
    assertThat(done).isNotDone();
    STREAM_RELEASE.complete(null);
    assertThat(done.get(10, TimeUnit.SECONDS)).isEqualTo("firstsecond");
  }

  @Test
  void requestChunksPassOneByOne() throws Exception {
    CompletableFuture<String> body = new CompletableFuture<>();
    HttpClientRequest request =
        onLoop(
            () ->
                client
                    .request(
                        viaProxy(
                            HttpMethod.POST, sandboxHost(upstream.actualPort()), "/upload-stream"))
                    .map(
                        created -> {
                          created.setChunked(true);
                          created
                              .response()
                              .compose(HttpClientResponse::body)
                              .onSuccess(b -> body.complete(b.toString()));
                          return created;
                        }));
    await(request.write("one"));
    assertThat(UPLOAD_FIRST_CHUNK.get(10, TimeUnit.SECONDS)).isEqualTo("one");
    await(request.end("two"));
    assertThat(body.get(10, TimeUnit.SECONDS)).isEqualTo("onetwo");
  }

  @Test
  void webSocketEchoesThroughTheProxy() throws Exception {
    WebSocketConnectOptions options = new WebSocketConnectOptions();
    options
        .setHost("127.0.0.1")
        .setPort(proxy.port())
        .setURI("/ws")
        .putHeader("E2b-Sandbox-Id", SANDBOX)
        .putHeader("E2b-Sandbox-Port", Integer.toString(upstream.actualPort()));
    WebSocket socket = await(vertx.createWebSocketClient().connect(options));
    try {
      CompletableFuture<String> echo = new CompletableFuture<>();
      socket.textMessageHandler(echo::complete);
      await(socket.writeTextMessage("hello through the proxy"));
      assertThat(echo.get(10, TimeUnit.SECONDS)).isEqualTo("hello through the proxy");
      CompletableFuture<Buffer> binary = new CompletableFuture<>();
      socket.binaryMessageHandler(binary::complete);
      await(socket.writeBinaryMessage(Buffer.buffer(new byte[200_000])));
      assertThat(binary.get(10, TimeUnit.SECONDS).length()).isEqualTo(200_000);
    } finally {
      await(socket.close());
    }
  }

  @Test
  void largeUploadAndDownloadStreamThrough() throws Exception {
    long size = 100L * 1024 * 1024;
    CompletableFuture<String> counted = new CompletableFuture<>();
    onLoop(
        () ->
            client
                .request(viaProxy(HttpMethod.POST, sandboxHost(upstream.actualPort()), "/count"))
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
        () ->
            client
                .request(
                    viaProxy(
                        HttpMethod.GET,
                        sandboxHost(upstream.actualPort()),
                        "/download?size=" + size))
                .compose(HttpClientRequest::send)
                .map(
                    response -> {
                      response.handler(chunk -> received.addAndGet(chunk.length()));
                      response.endHandler(v -> end.complete(received.get()));
                      return response;
                    }));
    assertThat(end.get(60, TimeUnit.SECONDS)).isEqualTo(size);
  }
}
