package dev.sbx.proxy;

import static dev.sbx.proxy.ProxyTestSupport.await;
import static dev.sbx.proxy.ProxyTestSupport.options;
import static dev.sbx.proxy.ProxyTestSupport.send;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sbx.proxy.ProxyTestSupport.Answer;
import dev.sbx.proxy.catalog.CatalogEntry;
import dev.sbx.proxy.catalog.CatalogEntry.RouteState;
import dev.sbx.proxy.catalog.InMemoryCatalog;
import dev.sbx.proxy.forward.ForwardingProxy;
import dev.sbx.proxy.routing.LocalNode;
import dev.sbx.proxy.routing.SandboxTarget;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The client proxy with a {@link LocalNode} (as {@code sbx up} starts it): requests for that node's
 * sandboxes go straight to the sandbox's address, with the node proxy's answers; requests for other
 * nodes still go to their node proxy. A recording server stands in for the local node's proxy and
 * must see none of its sandboxes' requests.
 */
class ClientProxyLocalNodeTest {

  private static final String LOCAL = "local1";
  private static final String MASKED = "masked1";
  private static final String GONE = "gone1";
  private static final String REMOTE = "remote1";

  private static Vertx vertx;
  private static HttpClient client;
  private static HttpServer sandbox;
  private static HttpServer localNodeProxy;
  private static HttpServer remoteNodeProxy;
  private static ClientProxy proxy;
  private static final InMemoryCatalog CATALOG = new InMemoryCatalog();
  private static final AtomicInteger LOCAL_NODE_PROXY_HITS = new AtomicInteger();

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    client = vertx.createHttpClient();
    sandbox =
        await(
            vertx
                .createHttpServer()
                .requestHandler(request -> echo(request, "sandbox"))
                .listen(0, "127.0.0.1"));
    localNodeProxy =
        await(
            vertx
                .createHttpServer()
                .requestHandler(
                    request -> {
                      LOCAL_NODE_PROXY_HITS.incrementAndGet();
                      echo(request, "local node proxy");
                    })
                .listen(0, "127.0.0.1"));
    remoteNodeProxy =
        await(
            vertx
                .createHttpServer()
                .requestHandler(request -> echo(request, "remote node proxy"))
                .listen(0, "127.0.0.1"));
    int local = localNodeProxy.actualPort();
    CATALOG.put(new CatalogEntry(LOCAL, "node1", "127.0.0.1", local, null, RouteState.RUNNING));
    CATALOG.put(new CatalogEntry(GONE, "node1", "127.0.0.1", local, null, RouteState.RUNNING));
    CATALOG.put(
        new CatalogEntry(
            MASKED,
            "node1",
            "127.0.0.1",
            local,
            null,
            RouteState.RUNNING,
            null,
            "app.example:${PORT}"));
    CATALOG.put(
        new CatalogEntry(
            REMOTE, "node2", "127.0.0.1", remoteNodeProxy.actualPort(), null, RouteState.RUNNING));
    Map<String, String> addresses = Map.of(LOCAL, "127.0.0.1", MASKED, "127.0.0.1");
    LocalNode node =
        new LocalNode() {
          @Override
          public boolean isNodeProxy(String host, int port) {
            return port == local && host.equals("127.0.0.1");
          }

          @Override
          public @Nullable String sandboxAddress(String sandboxId) {
            return addresses.get(sandboxId);
          }

          @Override
          public int dialAttempts() {
            return 2;
          }

          @Override
          public Duration dialBackoffStep() {
            return Duration.ofMillis(20);
          }
        };
    proxy = ClientProxy.start(ClientProxySettings.defaults("127.0.0.1", 0, 0), CATALOG, null, node);
  }

  @AfterAll
  static void stop() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    CATALOG.close();
    if (vertx != null) {
      await(vertx.close());
    }
  }

  /** Answers 200 with who answered and the Host and forwarding headers it was sent. */
  private static void echo(HttpServerRequest request, String who) {
    request
        .response()
        .putHeader("X-Served-By", who)
        .putHeader("X-Seen-Host", String.valueOf(request.authority()))
        .putHeader("X-Seen-Forwarded-Host", String.valueOf(request.getHeader("X-Forwarded-Host")))
        .putHeader(
            "X-Seen-Masked-Header",
            String.valueOf(request.getHeader(ForwardingProxy.MASKED_HOST_HEADER)))
        .end(request.path());
  }

  private static RequestOptions to(String sandboxId, int port, String path) {
    return options(proxy.port(), HttpMethod.GET, "127.0.0.1", path)
        .putHeader(SandboxTarget.SANDBOX_ID_HEADER, sandboxId)
        .putHeader(SandboxTarget.SANDBOX_PORT_HEADER, Integer.toString(port));
  }

  @Test
  void aLocalSandboxIsReachedWithoutItsNodeProxy() throws Exception {
    int before = LOCAL_NODE_PROXY_HITS.get();

    Answer answer = send(vertx, client, to(LOCAL, sandbox.actualPort(), "/hello?x=1"), null);

    assertThat(answer.status()).isEqualTo(200);
    assertThat(answer.body()).isEqualTo("/hello");
    assertThat(answer.headers().get("X-Served-By")).isEqualTo("sandbox");
    assertThat(answer.headers().get("X-Seen-Host")).isEqualTo("127.0.0.1:" + proxy.port());
    assertThat(LOCAL_NODE_PROXY_HITS.get()).isEqualTo(before);
  }

  @Test
  void aSandboxOfAnotherNodeStillGoesToThatNodesProxy() throws Exception {
    Answer answer = send(vertx, client, to(REMOTE, sandbox.actualPort(), "/x"), null);

    assertThat(answer.status()).isEqualTo(200);
    assertThat(answer.headers().get("X-Served-By")).isEqualTo("remote node proxy");
  }

  @Test
  void aSandboxTheLocalNodeNoLongerRunsIsNotFound() throws Exception {
    Answer answer = send(vertx, client, to(GONE, sandbox.actualPort(), "/x"), null);

    assertThat(answer.status()).isEqualTo(502);
    assertThat(answer.body()).contains("\"sandboxId\":\"" + GONE + "\"").contains("not found");
    assertThat(answer.headers().get("X-Served-By")).isNull();
  }

  @Test
  void aClosedPortGetsTheNodeProxysPortNotOpenAnswer() throws Exception {
    int closed;
    try (ServerSocket socket = new ServerSocket(0)) {
      closed = socket.getLocalPort();
    }

    Answer answer = send(vertx, client, to(LOCAL, closed, "/x"), null);

    assertThat(answer.status()).isEqualTo(502);
    assertThat(answer.body())
        .contains("\"port\":" + closed)
        .contains("\"sandboxId\":\"" + LOCAL + "\"")
        .contains("is not open");
  }

  @Test
  void aMaskedHostIsSentAsTheHostWithTheRequestsHostForwarded() throws Exception {
    int port = sandbox.actualPort();

    Answer answer = send(vertx, client, to(MASKED, port, "/m"), null);

    assertThat(answer.status()).isEqualTo(200);
    assertThat(answer.headers().get("X-Served-By")).isEqualTo("sandbox");
    assertThat(answer.headers().get("X-Seen-Host")).isEqualTo("app.example:" + port);
    assertThat(answer.headers().get("X-Seen-Forwarded-Host"))
        .isEqualTo("127.0.0.1:" + proxy.port());
    assertThat(answer.headers().get("X-Seen-Masked-Header")).isEqualTo("null");
  }
}
