package dev.sbx.bench;

import dev.sbx.proto.orchestrator.CreateSandboxRequest;
import dev.sbx.proto.orchestrator.DeleteSandboxRequest;
import dev.sbx.proto.orchestrator.SandboxServiceGrpc;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Creates per second at concurrency 1, 4 and 16 (issue 3): {@code concurrency} clients each create
 * sandboxes over gRPC one after another (cold: the template has no warm pool; the node keeps 4
 * network slots ready) until {@code creates} have been made; the rate is creates / wall time. The
 * sandboxes are deleted after each level, outside the timing. Layout {@code sbxs} ({@link
 * BenchNode}).
 *
 * <p>{@code java -cp … dev.sbx.bench.CreateThroughputBenchmark <envd-dist> [runc|runsc] [creates
 * per level]}
 */
public final class CreateThroughputBenchmark {
  private CreateThroughputBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: CreateThroughputBenchmark <envd-dist> [runc|runsc] [creates]");
      System.exit(2);
    }
    Path envdDist = Path.of(args[0]).toAbsolutePath();
    String runtime = args.length > 1 ? args[1] : "runc";
    int creates = args.length > 2 ? Integer.parseInt(args[2]) : 32;
    System.out.println(Machine.describe());
    try (BenchNode node = BenchNode.start(envdDist, runtime, Map.of("cold", 0), creates + 4, 4)) {
      var sandboxes =
          SandboxServiceGrpc.newBlockingStub(node.channel).withDeadlineAfter(1, TimeUnit.HOURS);
      sandboxes.create(request("warmup").build());
      sandboxes.delete(DeleteSandboxRequest.newBuilder().setSandboxId("warmup").build());
      System.out.printf(
          "| runtime | concurrency | creates | wall time | creates/s | create p50 | create p95 |"
              + " load before → after |%n");
      for (int concurrency : new int[] {1, 4, 16}) {
        int count = concurrency == 1 ? Math.max(4, creates / 4) : creates;
        String loadBefore = Machine.loadAverage();
        Samples latency = new Samples(count);
        List<String> made = new ArrayList<>();
        AtomicInteger next = new AtomicInteger();
        long start = System.nanoTime();
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
          List<Future<?>> workers = new ArrayList<>();
          for (int w = 0; w < concurrency; w++) {
            workers.add(
                clients.submit(
                    () -> {
                      for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
                        String id = "t" + concurrency + "x" + i;
                        long started = System.nanoTime();
                        sandboxes.create(request(id).build());
                        long elapsed = System.nanoTime() - started;
                        synchronized (made) {
                          made.add(id);
                          latency.add(elapsed);
                        }
                      }
                      return null;
                    }));
          }
          for (Future<?> worker : workers) {
            worker.get();
          }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf(
            "| %s | %d | %d | %.1f s | %.2f | %.0f ms | %.0f ms | %s → %s |%n",
            runtime,
            concurrency,
            count,
            seconds,
            count / seconds,
            latency.percentileMillis(50),
            latency.percentileMillis(95),
            loadBefore,
            Machine.loadAverage());
        try (ExecutorService deleters = Executors.newVirtualThreadPerTaskExecutor()) {
          for (String id : made) {
            deleters.submit(
                () -> sandboxes.delete(DeleteSandboxRequest.newBuilder().setSandboxId(id).build()));
          }
        }
      }
    }
  }

  private static CreateSandboxRequest.Builder request(String id) {
    return CreateSandboxRequest.newBuilder()
        .setSandboxId(id)
        .setTemplateId("cold")
        .setCpuCount(1)
        .setMemoryMb(256);
  }
}
