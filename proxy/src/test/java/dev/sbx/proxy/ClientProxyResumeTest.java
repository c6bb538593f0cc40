package dev.sbx.proxy;

import static dev.sbx.proxy.ProxyTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sbx.proxy.ProxyTestSupport.Answer;
import dev.sbx.proxy.catalog.CatalogEntry;
import dev.sbx.proxy.catalog.CatalogEntry.RouteState;
import dev.sbx.proxy.catalog.InMemoryCatalog;
import dev.sbx.proxy.resume.ResumeRequest;
import dev.sbx.proxy.resume.ResumeResult;
import dev.sbx.proxy.resume.ResumeResult.Outcome;
import dev.sbx.proxy.resume.SandboxResumer;
import dev.sbx.proxy.routing.ProxyError;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Auto-resume in the client proxy (§3.2 step 2): a request for a paused sandbox is held, body and
 * all, while the {@link SandboxResumer} resumes it, then forwarded to the route the resumer gives;
 * the resumer's refusals become E2B's proxy errors. A recording server stands in for the node.
 */
class ClientProxyResumeTest {
  private static Vertx vertx;
  private static HttpClient client;
  private static HttpServer node;
  private static ClientProxy proxy;
  private static final InMemoryCatalog CATALOG = new InMemoryCatalog();
  private static final List<ResumeRequest> ASKED = new CopyOnWriteArrayList<>();

  /** What the fake control plane answers next (set per test). */
  private static volatile Behaviour behaviour =
      request ->
          CompletableFuture.completedFuture(ResumeResult.refused(Outcome.NOT_FOUND, "unset"));

  interface Behaviour {
    CompletionStage<ResumeResult> answer(ResumeRequest request);
  }

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    client = vertx.createHttpClient();
    node =
        await(
            vertx
                .createHttpServer()
                .requestHandler(ClientProxyResumeTest::serve)
                .listen(0, "127.0.0.1"));
    SandboxResumer resumer =
        request -> {
          ASKED.add(request);
          return behaviour.answer(request);
        };
    proxy = ClientProxy.start(ClientProxySettings.defaults("127.0.0.1", 0, 0), CATALOG, resumer);
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

  @BeforeEach
  void clear() {
    ASKED.clear();
  }

  private static void serve(HttpServerRequest request) {
    request
        .body()
        .onSuccess(
            body ->
                request
                    .response()
                    .putHeader("X-Seen-Uri", request.uri())
                    .putHeader("X-Seen-Sandbox", String.valueOf(request.getHeader("Host")))
                    .end("node got: " + body));
  }

  private static CatalogEntry entry(String id, RouteState state, @Nullable String token) {
    return new CatalogEntry(id, "node1", "127.0.0.1", node.actualPort(), token, state);
  }

  private static Answer post(String host, String body, String... headers) throws Exception {
    RequestOptions options =
        ProxyTestSupport.options(proxy.port(), HttpMethod.POST, host, "/x?y=1");
    options.putHeader("Accept", "application/json");
    for (int i = 0; i < headers.length; i += 2) {
      options.putHeader(headers[i], headers[i + 1]);
    }
    return ProxyTestSupport.send(vertx, client, options, body);
  }

  @Test
  void aPausedSandboxIsResumedWhileTheRequestWaitsThenServed() throws Exception {
    CATALOG.put(entry("sleepy1", RouteState.PAUSED, "traffic-1"));
    CompletableFuture<ResumeResult> resumed = new CompletableFuture<>();
    behaviour = request -> resumed;
    CompletableFuture<Answer> answer =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return post(
                    "8000-sleepy1.sbx.test",
                    "the body waits",
                    "e2b-traffic-access-token",
                    "traffic-1",
                    "X-Access-Token",
                    "envd-1");
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    // the request is held until the resume is done
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(10))
        .until(() -> !ASKED.isEmpty());
    assertThat(answer).isNotDone();
    assertThat(ASKED.getFirst())
        .isEqualTo(new ResumeRequest("sleepy1", 8000, "traffic-1", "envd-1"));
    CatalogEntry running = entry("sleepy1", RouteState.RUNNING, "traffic-1");
    CATALOG.put(running);
    resumed.complete(ResumeResult.resumed(running));

    Answer served = answer.get(10, TimeUnit.SECONDS);
    assertThat(served.status()).as(served.body()).isEqualTo(200);
    assertThat(served.body()).isEqualTo("node got: the body waits");
    assertThat(served.headers().get("X-Seen-Uri")).isEqualTo("/x?y=1");

    // running now: the next request goes straight through
    Answer next = post("8000-sleepy1.sbx.test", "again", "e2b-traffic-access-token", "traffic-1");
    assertThat(next.status()).isEqualTo(200);
    assertThat(ASKED).hasSize(1);
  }

  @Test
  void theResumedRouteStillChecksTheTrafficToken() throws Exception {
    CatalogEntry running = entry("private1", RouteState.RUNNING, "traffic-2");
    CATALOG.put(entry("private1", RouteState.PAUSED, "traffic-2"));
    behaviour = request -> CompletableFuture.completedFuture(ResumeResult.resumed(running));
    Answer answer = post("8000-private1.sbx.test", "b");
    assertThat(answer.status()).isEqualTo(403);
    assertThat(answer.body()).isEqualTo(ProxyError.trafficTokenMissing("private1").json());
  }

  @Test
  void refusalsAreE2bProxyErrors() throws Exception {
    record Case(Outcome outcome, String message, int status, String body) {}
    for (Case c :
        List.of(
            new Case(Outcome.NOT_FOUND, "x", 502, ProxyError.sandboxNotFound("refused1").json()),
            new Case(Outcome.FORBIDDEN, "x", 403, ProxyError.resumeForbidden("refused1").json()),
            new Case(Outcome.TRANSITIONING, "x", 409, ProxyError.transitioning("refused1").json()),
            new Case(
                Outcome.LIMIT_REACHED,
                "you have reached the maximum number of concurrent E2B sandboxes (5)",
                429,
                ProxyError.resumeLimitReached(
                        "refused1",
                        "you have reached the maximum number of concurrent E2B sandboxes (5)")
                    .json()),
            new Case(
                Outcome.FAILED,
                "Resuming failed: disk",
                502,
                ProxyError.resumeFailed("refused1", "Resuming failed: disk").json()))) {
      CATALOG.put(entry("refused1", RouteState.PAUSED, null));
      behaviour =
          request ->
              CompletableFuture.completedFuture(ResumeResult.refused(c.outcome(), c.message()));
      Answer answer = post("49983-refused1.sbx.test", "b");
      assertThat(answer.status()).as(c.outcome().name()).isEqualTo(c.status());
      assertThat(answer.body()).as(c.outcome().name()).isEqualTo(c.body());
    }
    assertThat(ProxyError.resumeLimitReached("s", "").message()).isEqualTo("Sandbox limit reached");
  }

  @Test
  void aFailingOrThrowingResumerIsA502AndUnknownSandboxesAreNotAsked() throws Exception {
    CATALOG.put(entry("broken1", RouteState.PAUSED, null));
    behaviour = request -> CompletableFuture.failedFuture(new IllegalStateException("api down"));
    Answer failed = post("8000-broken1.sbx.test", "b");
    assertThat(failed.status()).isEqualTo(502);
    assertThat(failed.body())
        .isEqualTo(ProxyError.resumeFailed("broken1", "The sandbox could not be resumed").json());

    behaviour =
        request -> {
          throw new IllegalStateException("thrown");
        };
    assertThat(post("8000-broken1.sbx.test", "b").status()).isEqualTo(502);

    ASKED.clear();
    Answer unknown = post("8000-nobody1.sbx.test", "b");
    assertThat(unknown.status()).isEqualTo(502);
    assertThat(unknown.body()).isEqualTo(ProxyError.sandboxNotFound("nobody1").json());
    assertThat(ASKED).isEmpty();
  }

  @Test
  void aTransitioningSandboxIsHandedToTheResumerToo() throws Exception {
    CatalogEntry running = entry("moving1", RouteState.RUNNING, null);
    CATALOG.put(entry("moving1", RouteState.TRANSITIONING, null));
    behaviour = request -> CompletableFuture.completedFuture(ResumeResult.resumed(running));
    Answer answer = post("8000-moving1.sbx.test", "waited");
    assertThat(answer.status()).isEqualTo(200);
    assertThat(answer.body()).isEqualTo("node got: waited");
  }
}
