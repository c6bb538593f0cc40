package dev.sbx.bench;

import dev.sbx.orchestrator.lifecycle.CreateTrace;
import dev.sbx.proto.orchestrator.CreateSandboxRequest;
import dev.sbx.proto.orchestrator.DeleteSandboxRequest;
import dev.sbx.proto.orchestrator.EgressPolicy;
import dev.sbx.proto.orchestrator.NodeInfoRequest;
import dev.sbx.proto.orchestrator.NodeServiceGrpc;
import dev.sbx.proto.orchestrator.SandboxServiceGrpc;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Create latency over gRPC, from a template's warm pool and cold (issue 3's targets, runc: warm p50
 * ≤ 20 ms, cold ≤ 500 ms), with the lifecycle's per-step breakdown ({@link CreateTrace}). Needs
 * root, runc (or runsc), nftables and busybox-static; starts its own orchestrator on the
 * benchmarks' layout ({@link BenchNode}: {@code sbxs}) with a busybox template {@code warm} (pool
 * of 1) and {@code cold} (no pool), and removes everything at the end.
 *
 * <p>{@code java -cp … dev.sbx.bench.CreateLatencyBenchmark <envd-dist> [runs] [runc|runsc]}: each
 * warm run waits until the pool holds a sandbox, then times {@code Create} until it returns (claim,
 * hostname, /etc/hosts, limits, /init), with the egress the API sends by default (internet access);
 * each cold run times a create from the template without a pool (ready network slot, runtime
 * create, envd healthy, /init), once on a node at rest (the warm pool full) and once right after a
 * claim emptied the pool, while the refill's sandbox starts beside it (where a cold start happens
 * when creates outrun the pool). Every sandbox is deleted after its run, outside the timing; the
 * delete is timed too.
 */
public final class CreateLatencyBenchmark {
  private CreateLatencyBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: CreateLatencyBenchmark <envd-dist> [runs] [runc|runsc]");
      System.exit(2);
    }
    Path envdDist = Path.of(args[0]).toAbsolutePath();
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    String runtime = args.length > 2 ? args[2] : "runc";
    System.out.println(Machine.describe());
    Map<String, CreateTrace> traces = new ConcurrentHashMap<>();
    try (BenchNode node = BenchNode.start(envdDist, runtime, Map.of("warm", 1, "cold", 0), 8, 2)) {
      node.orchestrator.lifecycle().onCreate(trace -> traces.put(trace.sandboxId(), trace));
      var sandboxes =
          SandboxServiceGrpc.newBlockingStub(node.channel).withDeadlineAfter(1, TimeUnit.HOURS);
      var info = NodeServiceGrpc.newBlockingStub(node.channel);
      Samples deletes = new Samples(4 * runs + 2);
      // one of each first: JIT, the gRPC connection, the page cache
      time(sandboxes, "warmupc", "cold", true, deletes);
      awaitWarm(info);
      time(sandboxes, "warmupw", "warm", true, deletes);
      Samples warm = new Samples(runs);
      Samples warmDefaults = new Samples(runs);
      Samples cold = new Samples(runs);
      Samples coldDuringRefill = new Samples(runs);
      Map<String, Long> clientNanos = new LinkedHashMap<>();
      for (int i = 0; i < runs; i++) {
        awaitWarm(info);
        warm.add(record(clientNanos, "bw" + i, time(sandboxes, "bw" + i, "warm", true, deletes)));
        awaitWarm(info);
        warmDefaults.add(
            record(clientNanos, "bd" + i, time(sandboxes, "bd" + i, "warm", false, deletes)));
        coldDuringRefill.add(
            record(clientNanos, "br" + i, time(sandboxes, "br" + i, "cold", true, deletes)));
        awaitWarm(info);
        cold.add(record(clientNanos, "bc" + i, time(sandboxes, "bc" + i, "cold", true, deletes)));
      }
      System.out.printf(
          "create over gRPC, %s, busybox template, %d runs each, load %s%n",
          runtime, runs, Machine.loadAverage());
      System.out.printf(
          "| warm pool, 1 vCPU / 256 MiB | p50 %.1f ms | p95 %.1f ms |%n",
          warm.percentileMillis(50), warm.percentileMillis(95));
      System.out.printf(
          "| warm pool, the template's limits | p50 %.1f ms | p95 %.1f ms |%n",
          warmDefaults.percentileMillis(50), warmDefaults.percentileMillis(95));
      System.out.printf(
          "| cold, node at rest | p50 %.1f ms | p95 %.1f ms |%n",
          cold.percentileMillis(50), cold.percentileMillis(95));
      System.out.printf(
          "| cold, beside the warm pool's refill | p50 %.1f ms | p95 %.1f ms |%n",
          coldDuringRefill.percentileMillis(50), coldDuringRefill.percentileMillis(95));
      System.out.printf(
          "| delete | p50 %.1f ms | p95 %.1f ms |%n",
          deletes.percentileMillis(50), deletes.percentileMillis(95));
      printSteps("warm, 1 vCPU / 256 MiB", "bw", runs, traces, clientNanos);
      printSteps("warm, the template's limits", "bd", runs, traces, clientNanos);
      printSteps("cold, node at rest", "bc", runs, traces, clientNanos);
      printSteps("cold, beside the warm pool's refill", "br", runs, traces, clientNanos);
    }
  }

  private static long record(Map<String, Long> clientNanos, String id, long nanos) {
    clientNanos.put(id, nanos);
    return nanos;
  }

  /** The median of each step over the runs {@code <prefix>0…}, and what gRPC added. */
  private static void printSteps(
      String title,
      String prefix,
      int runs,
      Map<String, CreateTrace> traces,
      Map<String, Long> clientNanos) {
    Map<String, Samples> steps = new LinkedHashMap<>();
    Samples total = new Samples(runs);
    Samples grpc = new Samples(runs);
    for (int i = 0; i < runs; i++) {
      CreateTrace trace = traces.get(prefix + i);
      if (trace == null) {
        continue;
      }
      for (CreateTrace.Step step : trace.steps()) {
        steps.computeIfAbsent(step.name(), n -> new Samples(runs)).add(step.nanos());
      }
      for (CreateTrace.Step step : trace.parallelSteps()) {
        steps.computeIfAbsent("(" + step.name() + ")", n -> new Samples(runs)).add(step.nanos());
      }
      total.add(trace.totalNanos());
      grpc.add(clientNanos.getOrDefault(prefix + i, 0L) - trace.totalNanos());
    }
    System.out.printf("steps of a create, %s (median of %d, ms):%n", title, total.size());
    List<String> rows = new ArrayList<>();
    steps.forEach((name, samples) -> rows.add(row(name, samples)));
    rows.add(row("lifecycle total", total));
    rows.add(row("gRPC and the service (client time - lifecycle total)", grpc));
    rows.forEach(System.out::println);
  }

  private static String row(String name, Samples samples) {
    return String.format(
        "| %s | %.2f | p95 %.2f |",
        name, samples.percentileMillis(50), samples.percentileMillis(95));
  }

  /** One create (1 vCPU / 256 MiB, or the template's 2 / 512 without {@code ownLimits}). */
  private static long time(
      SandboxServiceGrpc.SandboxServiceBlockingStub sandboxes,
      String id,
      String template,
      boolean ownLimits,
      Samples deletes) {
    CreateSandboxRequest.Builder request =
        CreateSandboxRequest.newBuilder().setSandboxId(id).setTemplateId(template);
    if (ownLimits) {
      request.setCpuCount(1).setMemoryMb(256);
    }
    // what the API sends unless the SDK sets allowInternetAccess false
    request.putEnvVars("BENCH", "1").setEgress(EgressPolicy.newBuilder().setInternetAccess(true));
    long start = System.nanoTime();
    sandboxes.create(request.build());
    long elapsed = System.nanoTime() - start;
    long deleteStart = System.nanoTime();
    sandboxes.delete(DeleteSandboxRequest.newBuilder().setSandboxId(id).build());
    deletes.add(System.nanoTime() - deleteStart);
    return elapsed;
  }

  private static void awaitWarm(NodeServiceGrpc.NodeServiceBlockingStub node)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (node.info(NodeInfoRequest.getDefaultInstance()).getWarmPoolOrDefault("warm", 0) < 1) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the warm pool did not refill within two minutes");
      }
      Thread.sleep(10);
    }
  }
}
