package dev.sbx.bench;

import static java.util.Objects.requireNonNull;

import dev.sbx.proto.orchestrator.CreateSandboxRequest;
import dev.sbx.proto.orchestrator.Sandbox;
import dev.sbx.proto.orchestrator.SandboxServiceGrpc;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The orchestrator's node proxy against direct access to a real sandbox's envd (issue 3): {@code
 * GET /health} (204, no body) sequentially for latency and at concurrency 16 for throughput, and a
 * 64 MiB file written into the sandbox then read back ({@code GET /files}) for bandwidth. "direct"
 * is {@code http://<sandbox address>:49983}, "node proxy" is the orchestrator's node proxy on
 * loopback with {@code E2b-Sandbox-Id}/{@code E2b-Sandbox-Port}. Both paths use the same JDK {@code
 * HttpClient} (HTTP/1.1, keep-alive) and alternate round by round. Layout {@code sbxs} ({@link
 * BenchNode}).
 *
 * <p>{@code java -cp … dev.sbx.bench.NodeProxyBenchmark <envd-dist> [requests] [runc|runsc]}
 */
public final class NodeProxyBenchmark {
  private NodeProxyBenchmark() {}

  record Path2(String name, URI base, Map<String, String> headers) {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: NodeProxyBenchmark <envd-dist> [requests] [runc|runsc]");
      System.exit(2);
    }
    Path envdDist = Path.of(args[0]).toAbsolutePath();
    int requests = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
    String runtime = args.length > 2 ? args[2] : "runc";
    System.out.println(Machine.describe());
    try (BenchNode node = BenchNode.start(envdDist, runtime, Map.of("cold", 0), 2, 1);
        HttpClient http =
            HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .build()) {
      Sandbox sandbox =
          SandboxServiceGrpc.newBlockingStub(node.channel)
              .withDeadlineAfter(5, TimeUnit.MINUTES)
              .create(
                  CreateSandboxRequest.newBuilder()
                      .setSandboxId("p1")
                      .setTemplateId("cold")
                      .build());
      List<Path2> paths =
          List.of(
              new Path2(
                  "direct",
                  URI.create("http://" + sandbox.getAddress() + ":" + sandbox.getEnvdPort()),
                  Map.of()),
              new Path2(
                  "node proxy",
                  URI.create("http://127.0.0.1:" + node.orchestrator.nodeProxyPort()),
                  Map.of("E2b-Sandbox-Id", "p1", "E2b-Sandbox-Port", "49983")));
      for (Path2 path : paths) { // warm-up
        sequential(http, path, Math.max(200, requests / 5));
        concurrent(http, path, Math.max(200, requests / 5), 16);
      }
      byte[] file = new byte[64 << 20];
      new java.util.Random(1).nextBytes(file);
      send(http, paths.getFirst(), "POST", "/files?path=/tmp/bench.bin&username=root", file, 200);
      int rounds = 3;
      Map<String, List<Samples>> latency = new java.util.LinkedHashMap<>();
      Map<String, List<Double>> rates = new java.util.LinkedHashMap<>();
      Map<String, List<Double>> download = new java.util.LinkedHashMap<>();
      for (int round = 0; round < rounds; round++) {
        for (Path2 path : paths) {
          latency
              .computeIfAbsent(path.name(), k -> new ArrayList<>())
              .add(sequential(http, path, requests));
          rates
              .computeIfAbsent(path.name(), k -> new ArrayList<>())
              .add(concurrent(http, path, requests * 2, 16));
          long start = System.nanoTime();
          byte[] got =
              send(http, path, "GET", "/files?path=/tmp/bench.bin&username=root", null, 200);
          double seconds = (System.nanoTime() - start) / 1e9;
          if (got.length != file.length) {
            throw new IllegalStateException(
                "downloaded " + got.length + " bytes, not " + file.length);
          }
          download
              .computeIfAbsent(path.name(), k -> new ArrayList<>())
              .add(file.length / 1048576.0 / seconds);
        }
      }
      System.out.printf(
          "%s, envd in a busybox sandbox, %d sequential GET /health and %d at concurrency 16 per"
              + " round, %d rounds (median round), load %s%n",
          runtime, requests, requests * 2, rounds, Machine.loadAverage());
      System.out.println(
          "| path | GET /health p50 | p99 | req/s at 16 | req/s / direct | 64 MiB GET /files"
              + " MiB/s |");
      System.out.println("|---|---|---|---|---|---|");
      double directRate = median(requireNonNull(rates.get("direct")));
      for (Path2 path : paths) {
        List<Samples> samples = requireNonNull(latency.get(path.name()));
        List<Double> p50 = samples.stream().map(s -> s.percentileMillis(50)).toList();
        List<Double> p99 = samples.stream().map(s -> s.percentileMillis(99)).toList();
        double rate = median(requireNonNull(rates.get(path.name())));
        System.out.printf(
            "| %s | %.3f ms | %.3f ms | %.0f | %.2f | %.0f |%n",
            path.name(),
            median(p50),
            median(p99),
            rate,
            rate / directRate,
            median(requireNonNull(download.get(path.name()))));
      }
    }
  }

  private static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    return sorted.get(sorted.size() / 2);
  }

  private static Samples sequential(HttpClient http, Path2 path, int count) throws Exception {
    Samples samples = new Samples(count);
    for (int i = 0; i < count; i++) {
      long start = System.nanoTime();
      send(http, path, "GET", "/health", null, 204);
      samples.add(System.nanoTime() - start);
    }
    return samples;
  }

  /** Requests per second of {@code count} {@code GET /health} over {@code concurrency} clients. */
  private static double concurrent(HttpClient http, Path2 path, int count, int concurrency)
      throws Exception {
    java.util.concurrent.atomic.AtomicInteger next =
        new java.util.concurrent.atomic.AtomicInteger();
    long start = System.nanoTime();
    try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> workers = new ArrayList<>();
      for (int w = 0; w < concurrency; w++) {
        workers.add(
            clients.submit(
                () -> {
                  while (next.getAndIncrement() < count) {
                    send(http, path, "GET", "/health", null, 204);
                  }
                  return null;
                }));
      }
      for (Future<?> worker : workers) {
        worker.get();
      }
    }
    return count / ((System.nanoTime() - start) / 1e9);
  }

  private static byte[] send(
      HttpClient http,
      Path2 path,
      String method,
      String target,
      byte @Nullable [] body,
      int expected)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(path.base().resolve(target))
            .timeout(Duration.ofSeconds(60))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(body));
    if (body != null) {
      request.header("Content-Type", "application/octet-stream");
    }
    path.headers().forEach(request::header);
    HttpResponse<byte[]> response =
        http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    if (response.statusCode() != expected) {
      throw new IllegalStateException(
          path.name() + " " + method + " " + target + ": " + response.statusCode());
    }
    return response.body();
  }
}
