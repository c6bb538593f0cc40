package dev.sbx.bench;

import dev.sbx.proxy.ClientProxy;
import dev.sbx.proxy.ClientProxySettings;
import dev.sbx.proxy.catalog.CatalogEntry;
import dev.sbx.proxy.catalog.InMemoryCatalog;
import dev.sbx.proxy.forward.ExchangeListener;
import dev.sbx.proxy.forward.ForwardingProxy;
import dev.sbx.proxy.forward.ForwardingSettings;
import dev.sbx.proxy.forward.Route;
import dev.sbx.proxy.routing.ProxyError;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * HTTP through the client proxy against direct access to the upstream, in one run on loopback: a
 * Vert.x server answering 64 bytes stands in for the sandbox; the client proxy routes by Host
 * through an in-memory catalog either straight to it ("client proxy") or through a node proxy on
 * the same forwarding engine ("client + node proxy", the full data path). The load generator is a
 * Vert.x HTTP/1.1 client with keep-alive in the same JVM (its own event loops): latency at
 * concurrency 1, throughput at concurrency 16, rounds interleaved so that drift of the shared
 * machine hits all three alike.
 *
 * <p>With an envd dist directory as second argument, a real envd is a second sandbox: {@code GET
 * /envs} directly and through the client proxy (what SDK traffic crosses), compared with each
 * other.
 *
 * <p>Usage: {@code ProxyBenchmark [requests-per-round [envd-dist]]}.
 */
public final class ProxyBenchmark {

  private static final String SANDBOX = "bench1";
  private static final Buffer BODY = Buffer.buffer("x".repeat(64));
  private static final Buffer FIRST_MESSAGE =
      Buffer.buffer().appendByte((byte) 0).appendInt(7).appendString("{\"n\":1}");
  private static final Buffer END_OF_STREAM =
      Buffer.buffer().appendByte((byte) 2).appendInt(2).appendString("{}");
  private static final int STREAMS = 200;
  private static final int CONCURRENCY = 16;
  private static final int ROUNDS = 3;

  private ProxyBenchmark() {}

  public static void main(String[] args) throws Exception {
    int requests = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    System.out.println("## client proxy — " + Machine.describe());
    System.out.println();
    Vertx upstreamVertx = Vertx.vertx();
    Vertx loadVertx = Vertx.vertx();
    InMemoryCatalog catalog = new InMemoryCatalog();
    HttpServer upstream =
        await(
            upstreamVertx
                .createHttpServer()
                .requestHandler(
                    request -> {
                      if (!"/stream".equals(request.path())) {
                        request.response().end(BODY);
                        return;
                      }
                      // a Connect server stream: the first message now, the end 20 ms later
                      var response =
                          request
                              .response()
                              .setChunked(true)
                              .putHeader("Content-Type", "application/connect+json");
                      response.write(FIRST_MESSAGE);
                      upstreamVertx.setTimer(20, t -> response.end(END_OF_STREAM));
                    })
                .listen(0, "127.0.0.1"));
    ForwardingProxy nodeProxy =
        ForwardingProxy.start(
            upstreamVertx,
            new ForwardingSettings(
                "127.0.0.1",
                0,
                Duration.ofSeconds(620),
                5,
                Duration.ofMillis(100),
                Duration.ofSeconds(2),
                1024,
                false,
                null),
            (target, request) ->
                Future.succeededFuture(
                    new Route.Upstream(
                        "127.0.0.1",
                        target.port(),
                        ProxyError.portNotOpen(target.sandboxId(), target.port()))),
            ExchangeListener.NONE);
    ClientProxy proxy = ClientProxy.start(ClientProxySettings.defaults("127.0.0.1", 0, 0), catalog);
    String host = upstream.actualPort() + "-" + SANDBOX + ".sbx.bench";
    String chainHost = upstream.actualPort() + "-" + SANDBOX + "chain.sbx.bench";
    catalog.put(entry(SANDBOX, upstream.actualPort()));
    catalog.put(entry(SANDBOX + "chain", nodeProxy.port()));
    HttpClient client =
        loadVertx.createHttpClient(
            new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true),
            new PoolOptions().setHttp1MaxSize(CONCURRENCY));
    Target direct = new Target("direct", upstream.actualPort(), host, "/bench", 0);
    Target viaProxy = new Target("client proxy", proxy.port(), host, "/bench", 0);
    Target viaChain = new Target("client + node proxy", proxy.port(), chainHost, "/bench", 0);
    Target[] targets = {direct, viaProxy, viaChain};
    // optional: a real envd (the dist directory given) as the sandbox, GET /envs
    EnvdProcess envd = null;
    if (args.length > 1) {
      envd = EnvdProcess.start(Path.of(args[1]).toAbsolutePath(), Map.of());
      envd.awaitHealthy(java.net.http.HttpClient.newHttpClient(), Duration.ofSeconds(60));
      int envdPort = envd.baseUri().getPort();
      String envdHost = envdPort + "-" + SANDBOX + "envd.sbx.bench";
      catalog.put(entry(SANDBOX + "envd", envdPort));
      targets =
          new Target[] {
            direct,
            viaProxy,
            viaChain,
            new Target("envd direct", envdPort, envdHost, "/envs", 3),
            new Target("envd via client proxy", proxy.port(), envdHost, "/envs", 3)
          };
    }
    try {
      for (Target target : targets) {
        run(loadVertx, client, target, 2_000, CONCURRENCY); // warm-up
        run(loadVertx, client, target, 2_000, 1);
      }
      double[][] throughput = new double[targets.length][ROUNDS];
      Samples[] latency = new Samples[targets.length];
      for (int i = 0; i < targets.length; i++) {
        latency[i] = new Samples(ROUNDS * requests / 4);
      }
      for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < targets.length; i++) {
          Result result = run(loadVertx, client, targets[i], requests, CONCURRENCY);
          throughput[i][round] = result.perSecond();
          Result sequential = run(loadVertx, client, targets[i], requests / 4, 1);
          for (long nanos : sequential.latencies()) {
            latency[i].add(nanos);
          }
        }
      }
      Target[] streaming = {direct, viaProxy, viaChain};
      Samples[] firstMessage = new Samples[streaming.length];
      for (int i = 0; i < streaming.length; i++) {
        firstMessage[i] = firstMessages(loadVertx, client, streaming[i]);
      }
      print(targets, throughput, latency, requests);
      printFirstMessages(streaming, firstMessage);
    } finally {
      if (envd != null) {
        envd.close();
      }
      proxy.close();
      nodeProxy.close();
      await(client.close());
      await(loadVertx.close());
      await(upstreamVertx.close());
      catalog.close();
    }
  }

  private static CatalogEntry entry(String sandboxId, int nodePort) {
    return new CatalogEntry(
        sandboxId, "node1", "127.0.0.1", nodePort, null, CatalogEntry.RouteState.RUNNING);
  }

  /** A path to measure; {@code baseline} is the index of the direct path it is compared with. */
  record Target(String name, int port, String host, String uri, int baseline) {}

  record Result(double perSecond, long[] latencies) {}

  /** {@code requests} GETs by {@code concurrency} closed-loop workers; latency of each. */
  private static Result run(
      Vertx vertx, HttpClient client, Target target, int requests, int concurrency)
      throws Exception {
    RequestOptions options =
        new RequestOptions()
            .setServer(SocketAddress.inetSocketAddress(target.port(), "127.0.0.1"))
            .setMethod(HttpMethod.GET)
            .setHost(target.host())
            .setPort(target.port())
            .setURI(target.uri());
    long[] latencies = new long[requests];
    AtomicInteger next = new AtomicInteger();
    AtomicInteger failures = new AtomicInteger();
    Promise<Void> done = Promise.promise();
    AtomicInteger running = new AtomicInteger(concurrency);
    long start = System.nanoTime();
    vertx.runOnContext(
        v -> {
          for (int w = 0; w < concurrency; w++) {
            worker(client, options, latencies, next, failures, running, done);
          }
        });
    await(done.future());
    long elapsed = System.nanoTime() - start;
    if (failures.get() > 0) {
      throw new IllegalStateException(failures.get() + " requests failed via " + target.name());
    }
    return new Result(requests / (elapsed / 1e9), latencies);
  }

  private static void worker(
      HttpClient client,
      RequestOptions options,
      long[] latencies,
      AtomicInteger next,
      AtomicInteger failures,
      AtomicInteger running,
      Promise<Void> done) {
    int index = next.getAndIncrement();
    if (index >= latencies.length) {
      if (running.decrementAndGet() == 0) {
        done.tryComplete();
      }
      return;
    }
    long started = System.nanoTime();
    client
        .request(options)
        .compose(request -> request.send())
        .compose(
            response -> {
              if (response.statusCode() != 200) {
                failures.incrementAndGet();
              }
              return response.body();
            })
        .onComplete(
            answered -> {
              latencies[index] = System.nanoTime() - started;
              if (answered.failed()) {
                failures.incrementAndGet();
              }
              worker(client, options, latencies, next, failures, running, done);
            });
  }

  private static void print(
      Target[] targets, double[][] throughput, Samples[] latency, int requests) {
    System.out.printf(
        Locale.ROOT,
        "%d GETs (64-byte body; envd: GET /envs) per round at concurrency %d, %d rounds; latency"
            + " from %d sequential GETs per round; load average %s%n%n",
        requests,
        CONCURRENCY,
        ROUNDS,
        requests / 4,
        Machine.loadAverage());
    System.out.println(
        "| path | req/s (median of rounds) | throughput / direct | p50 | p99 | added p50 |");
    System.out.println("|---|---|---|---|---|---|");
    for (int i = 0; i < targets.length; i++) {
      int base = targets[i].baseline();
      double directRate = median(throughput[base]);
      double directP50 = latency[base].percentileMillis(50);
      double rate = median(throughput[i]);
      double p50 = latency[i].percentileMillis(50);
      System.out.printf(
          Locale.ROOT,
          "| %s | %.0f | %.2f | %.3f ms | %.3f ms | %s |%n",
          targets[i].name(),
          rate,
          rate / directRate,
          p50,
          latency[i].percentileMillis(99),
          i == base ? "–" : String.format(Locale.ROOT, "%.3f ms", p50 - directP50));
    }
  }

  /** Time from sending the request to the first stream message, while the stream stays open. */
  private static Samples firstMessages(Vertx vertx, HttpClient client, Target target)
      throws Exception {
    Samples samples = new Samples(STREAMS);
    RequestOptions options =
        new RequestOptions()
            .setServer(SocketAddress.inetSocketAddress(target.port(), "127.0.0.1"))
            .setMethod(HttpMethod.POST)
            .setHost(target.host())
            .setPort(target.port())
            .setURI("/stream");
    for (int i = 0; i < STREAMS; i++) {
      Promise<Long> first = Promise.promise();
      Promise<Void> ended = Promise.promise();
      vertx.runOnContext(
          v -> {
            long started = System.nanoTime();
            client
                .request(options)
                .compose(request -> request.send(Buffer.buffer().appendByte((byte) 0).appendInt(0)))
                .onSuccess(
                    response -> {
                      response.handler(chunk -> first.tryComplete(System.nanoTime() - started));
                      response.endHandler(end -> ended.tryComplete());
                    })
                .onFailure(
                    failure -> {
                      first.tryFail(failure);
                      ended.tryFail(failure);
                    });
          });
      long nanos = await(first.future());
      await(ended.future());
      samples.add(nanos);
    }
    return samples;
  }

  private static void printFirstMessages(Target[] targets, Samples[] firstMessage) {
    System.out.printf(
        Locale.ROOT,
        "%nFirst message of a Connect server stream (%d streams, sequential; the sandbox ends each"
            + " stream 20 ms after its first message)%n%n",
        STREAMS);
    System.out.println("| path | first message p50 | p99 |");
    System.out.println("|---|---|---|");
    for (int i = 0; i < targets.length; i++) {
      System.out.printf(
          Locale.ROOT,
          "| %s | %.3f ms | %.3f ms |%n",
          targets[i].name(),
          firstMessage[i].percentileMillis(50),
          firstMessage[i].percentileMillis(99));
    }
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    java.util.Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
  }
}
