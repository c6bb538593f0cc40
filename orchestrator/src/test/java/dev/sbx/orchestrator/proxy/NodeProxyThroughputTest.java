package dev.sbx.orchestrator.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Throughput and median latency of small GETs through the proxy against the same requests sent
 * straight to the upstream, in one run on loopback: 20,000 requests each at concurrency 16 after a
 * warm-up. Prints both and their ratio; asserts only that every request succeeded.
 */
class NodeProxyThroughputTest {

  private static final int REQUESTS = 20_000;
  private static final int WARMUP = 2_000;
  private static final int CONCURRENCY = 16;
  private static final String SANDBOX = "sbxtbench";
  private static final String BODY = "x".repeat(64);

  private Vertx vertx;
  private HttpServer upstream;
  private NodeProxy proxy;
  private HttpClient client;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    upstream =
        vertx
            .createHttpServer()
            .requestHandler(request -> request.response().end(BODY))
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS);
    InMemorySandboxAddresses addresses = new InMemorySandboxAddresses();
    addresses.put(SANDBOX, "127.0.0.1");
    proxy = NodeProxy.start(NodeProxySettings.defaults("127.0.0.1", 0), addresses);
    client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  }

  @AfterEach
  void stop() throws Exception {
    if (client != null) {
      client.close();
    }
    if (proxy != null) {
      proxy.close();
    }
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  record Result(double requestsPerSecond, double p50Micros, double p99Micros) {}

  @Test
  void proxyAgainstDirect() throws Exception {
    HttpRequest direct =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + upstream.actualPort() + "/"))
            .timeout(Duration.ofSeconds(30))
            .build();
    HttpRequest proxied =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/"))
            .header("E2b-Sandbox-Id", SANDBOX)
            .header("E2b-Sandbox-Port", Integer.toString(upstream.actualPort()))
            .timeout(Duration.ofSeconds(30))
            .build();
    run(i -> direct, WARMUP);
    run(i -> proxied, WARMUP);

    Result straight = run(i -> direct, REQUESTS);
    Result through = run(i -> proxied, REQUESTS);

    System.out.printf(
        "node proxy benchmark (%d GETs, concurrency %d, loopback):%n"
            + "  direct: %.0f req/s, p50 %.0f us, p99 %.0f us%n"
            + "  proxy:  %.0f req/s, p50 %.0f us, p99 %.0f us%n"
            + "  proxy/direct throughput %.2f, p50 latency %.2fx%n",
        REQUESTS,
        CONCURRENCY,
        straight.requestsPerSecond(),
        straight.p50Micros(),
        straight.p99Micros(),
        through.requestsPerSecond(),
        through.p50Micros(),
        through.p99Micros(),
        through.requestsPerSecond() / straight.requestsPerSecond(),
        through.p50Micros() / straight.p50Micros());
  }

  private Result run(IntFunction<HttpRequest> requests, int count) throws Exception {
    long[] latencies = new long[count];
    AtomicInteger next = new AtomicInteger();
    AtomicLong failures = new AtomicLong();
    long started = System.nanoTime();
    try (ExecutorService workers = Executors.newFixedThreadPool(CONCURRENCY)) {
      Future<?>[] running = new Future<?>[CONCURRENCY];
      for (int w = 0; w < CONCURRENCY; w++) {
        running[w] =
            workers.submit(
                () -> {
                  for (int i; (i = next.getAndIncrement()) < count; ) {
                    long begin = System.nanoTime();
                    HttpResponse<String> response =
                        client.send(requests.apply(i), HttpResponse.BodyHandlers.ofString());
                    latencies[i] = System.nanoTime() - begin;
                    if (response.statusCode() != 200 || !response.body().equals(BODY)) {
                      failures.incrementAndGet();
                    }
                  }
                  return null;
                });
      }
      for (Future<?> worker : running) {
        worker.get(5, TimeUnit.MINUTES);
      }
    }
    long elapsed = System.nanoTime() - started;
    assertThat(failures.get()).isZero();
    Arrays.sort(latencies);
    return new Result(
        count / (elapsed / 1e9), latencies[count / 2] / 1e3, latencies[(int) (count * 0.99)] / 1e3);
  }
}
