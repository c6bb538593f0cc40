package dev.sbx.bench;

import dev.sbx.orchestrator.LeakInventory;
import dev.sbx.orchestrator.Orchestrator;
import dev.sbx.orchestrator.OrchestratorConfig;
import dev.sbx.orchestrator.lifecycle.LifecycleSettings;
import dev.sbx.orchestrator.lifecycle.WarmPoolSettings;
import dev.sbx.orchestrator.network.Ipv4Cidr;
import dev.sbx.orchestrator.network.NetworkConfig;
import dev.sbx.orchestrator.rootfs.DirectoryTree;
import dev.sbx.orchestrator.runtime.RuncSettings;
import dev.sbx.orchestrator.template.Template;
import dev.sbx.orchestrator.template.TemplateDirectory;
import dev.sbx.orchestrator.template.TemplateSettings;
import dev.sbx.proto.orchestrator.CreateSandboxRequest;
import dev.sbx.proto.orchestrator.DeleteSandboxRequest;
import dev.sbx.proto.orchestrator.NodeInfoRequest;
import dev.sbx.proto.orchestrator.NodeServiceGrpc;
import dev.sbx.proto.orchestrator.SandboxServiceGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Create latency over gRPC, from a template's warm pool and cold (issue 3's targets, runc: warm p50
 * ≤ 20 ms, cold ≤ 500 ms). Needs root, runc, nftables and busybox-static; starts its own
 * orchestrator on the layout {@code sbxk} / {@code sbxk0} / {@code 10.234.0.0/24} (the orchestrator
 * tests' crash-recovery layout: do not run both at once) with a busybox template {@code warm} (pool
 * of 1) and {@code cold} (no pool), and removes everything at the end.
 *
 * <p>{@code java -cp … dev.sbx.bench.CreateLatencyBenchmark <envd-dist> [runs]}: each warm run
 * waits until the pool holds a sandbox, then times {@code Create} until it returns (claim,
 * hostname, /etc/hosts, limits, /init); each cold run times a create from the template without a
 * pool (slot built on demand, runc run, envd healthy, /init). Every sandbox is deleted after its
 * run, outside the timing.
 */
public final class CreateLatencyBenchmark {
  private CreateLatencyBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: CreateLatencyBenchmark <envd-dist> [runs]");
      System.exit(2);
    }
    Path envdDist = Path.of(args[0]).toAbsolutePath();
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    Path workDir = Files.createTempDirectory("sbxk-bench-");
    OrchestratorConfig config =
        new OrchestratorConfig(
                InetAddress.getLoopbackAddress(),
                0,
                workDir.resolve("templates"),
                new RuncSettings(
                    Path.of("runc"),
                    workDir.resolve("runc-state"),
                    workDir.resolve("sandboxes"),
                    "sbxk-",
                    "sbxk"),
                new NetworkConfig("sbxk", "sbxk0", Ipv4Cidr.parse("10.234.0.0/24"), 2),
                new LifecycleSettings(
                    envdDist, 8, Duration.ofSeconds(60), Duration.ofMillis(50), List.of()))
            .withNodeProxy("127.0.0.1", 0)
            .withWarmPool(new WarmPoolSettings(0, java.util.Map.of("warm", 1)));
    try {
      for (String id : new String[] {"warm", "cold"}) {
        Path template = workDir.resolve("templates").resolve(id);
        busyboxTemplate(template.resolve(Template.ROOTFS_DIR));
        TemplateDirectory.writeSettings(template, TemplateSettings.DEFAULT);
      }
      System.out.println(Machine.describe());
      try (Orchestrator orchestrator = Orchestrator.start(config)) {
        ManagedChannel channel =
            Grpc.newChannelBuilderForAddress(
                    "127.0.0.1", orchestrator.port(), InsecureChannelCredentials.create())
                .build();
        try {
          var sandboxes =
              SandboxServiceGrpc.newBlockingStub(channel).withDeadlineAfter(1, TimeUnit.HOURS);
          var node = NodeServiceGrpc.newBlockingStub(channel);
          // one of each first: JIT, the gRPC connection, the page cache
          time(sandboxes, "warmupc", "cold");
          awaitWarm(node);
          time(sandboxes, "warmupw", "warm");
          Samples warm = new Samples(runs);
          Samples warmDefaults = new Samples(runs);
          Samples cold = new Samples(runs);
          for (int i = 0; i < runs; i++) {
            awaitWarm(node);
            warm.add(time(sandboxes, "bw" + i, "warm"));
            awaitWarm(node);
            warmDefaults.add(time(sandboxes, "bd" + i, "warm", false));
            cold.add(time(sandboxes, "bc" + i, "cold"));
          }
          System.out.printf(
              "create over gRPC, runc, busybox template, %d runs each, load %s%n",
              runs, Machine.loadAverage());
          System.out.printf(
              "| warm pool | p50 %.1f ms | p95 %.1f ms |%n",
              warm.percentileMillis(50), warm.percentileMillis(95));
          System.out.printf(
              "| warm pool, template's limits (no runc update) | p50 %.1f ms | p95 %.1f ms |%n",
              warmDefaults.percentileMillis(50), warmDefaults.percentileMillis(95));
          System.out.printf(
              "| cold      | p50 %.1f ms | p95 %.1f ms |%n",
              cold.percentileMillis(50), cold.percentileMillis(95));
        } finally {
          channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
      }
      List<String> leaks = LeakInventory.find(config, null);
      if (!leaks.isEmpty()) {
        System.err.println("left on the host: " + leaks);
      }
    } finally {
      DirectoryTree.delete(workDir);
    }
  }

  private static long time(
      SandboxServiceGrpc.SandboxServiceBlockingStub sandboxes, String id, String template) {
    return time(sandboxes, id, template, true);
  }

  /** One create (1 vCPU / 256 MiB, or the template's 2 / 512 without {@code ownLimits}). */
  private static long time(
      SandboxServiceGrpc.SandboxServiceBlockingStub sandboxes,
      String id,
      String template,
      boolean ownLimits) {
    CreateSandboxRequest.Builder request =
        CreateSandboxRequest.newBuilder().setSandboxId(id).setTemplateId(template);
    if (ownLimits) {
      request.setCpuCount(1).setMemoryMb(256);
    }
    request.putEnvVars("BENCH", "1");
    long start = System.nanoTime();
    sandboxes.create(request.build());
    long elapsed = System.nanoTime() - start;
    sandboxes.delete(DeleteSandboxRequest.newBuilder().setSandboxId(id).build());
    return elapsed;
  }

  private static void awaitWarm(NodeServiceGrpc.NodeServiceBlockingStub node)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    while (node.info(NodeInfoRequest.getDefaultInstance()).getWarmPoolOrDefault("warm", 0) < 1) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the warm pool did not refill within a minute");
      }
      Thread.sleep(10);
    }
  }

  /** A busybox rootfs: the static binary, its applets, root and user 1000, /tmp 1777. */
  static void busyboxTemplate(Path dir) throws IOException, InterruptedException {
    Path busybox = Path.of("/bin/busybox");
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Files.copy(busybox, bin.resolve("busybox"));
    Process list = new ProcessBuilder(busybox.toString(), "--list").start();
    String applets = new String(list.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (list.waitFor() != 0) {
      throw new IllegalStateException("busybox --list failed");
    }
    for (String applet : applets.lines().toList()) {
      if (!applet.equals("busybox")) {
        Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
      }
    }
    Path etc = Files.createDirectories(dir.resolve("etc"));
    Files.writeString(
        etc.resolve("passwd"),
        "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n");
    Files.writeString(etc.resolve("group"), "root:x:0:\nuser:x:1000:\n");
    Path tmp = Files.createDirectories(dir.resolve("tmp"));
    Files.createDirectories(dir.resolve("root"));
    Path home = Files.createDirectories(dir.resolve("home/user"));
    Files.setAttribute(home, "unix:uid", 1000);
    Files.setAttribute(home, "unix:gid", 1000);
    if (new ProcessBuilder("chmod", "1777", tmp.toString()).start().waitFor() != 0) {
      throw new IllegalStateException("chmod 1777 " + tmp + " failed");
    }
  }
}
