package dev.sbx.bench;

import dev.sbx.orchestrator.LeakInventory;
import dev.sbx.orchestrator.Orchestrator;
import dev.sbx.orchestrator.OrchestratorConfig;
import dev.sbx.orchestrator.lifecycle.LifecycleSettings;
import dev.sbx.orchestrator.network.Ipv4Cidr;
import dev.sbx.orchestrator.network.NetworkConfig;
import dev.sbx.orchestrator.pause.SavedStateSettings;
import dev.sbx.orchestrator.rootfs.DirectoryTree;
import dev.sbx.orchestrator.runtime.ExecResult;
import dev.sbx.orchestrator.runtime.RuncSettings;
import dev.sbx.orchestrator.runtime.RunscSettings;
import dev.sbx.orchestrator.template.Template;
import dev.sbx.orchestrator.template.TemplateDirectory;
import dev.sbx.orchestrator.template.TemplateSettings;
import dev.sbx.proto.orchestrator.CreateSandboxRequest;
import dev.sbx.proto.orchestrator.DeleteSandboxRequest;
import dev.sbx.proto.orchestrator.ForkSandboxRequest;
import dev.sbx.proto.orchestrator.ForkSandboxResponse;
import dev.sbx.proto.orchestrator.PauseSandboxRequest;
import dev.sbx.proto.orchestrator.PausedSandbox;
import dev.sbx.proto.orchestrator.ResumeSandboxRequest;
import dev.sbx.proto.orchestrator.SandboxServiceGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Pause and resume latency over gRPC, checkpoint size and fork of 10 (issue 7's targets: resume p50
 * ≤ 300 ms for an idle sandbox, pause ≤ 1 s per GiB), for runc with CRIU and for runsc side by
 * side. Needs root, runc, runsc, CRIU 4.2+ at {@code /opt/sbx-criu/criu}, nftables and
 * busybox-static ({@code scripts/install-deps.sh test}); starts its own orchestrator per runtime on
 * the layout {@code sbxr} / {@code sbxr0} / {@code 10.233.0.0/24} and removes everything at the
 * end. runc runs twice: with paused sandboxes kept frozen in memory (the default: a resume thaws
 * them) and without (a resume restores the checkpoint from disk, as after the frozen one is dropped
 * or the node restarted).
 *
 * <p>{@code java -cp … dev.sbx.bench.PauseResumeBenchmark <envd-dist> [runs]}. Per runtime: an idle
 * sandbox (envd only) paused with memory and resumed {@code runs} times; one fork of 10 children
 * from it; then a sandbox holding 256 MiB and one holding 1 GiB of live memory (random bytes in a
 * process's heap: {@code tail -c} keeps the last N MiB of a pipe that stays open) paused and
 * resumed {@code runs} times each, checking after each resume that the holder still runs. Times are
 * the gRPC calls until they return: a pause until the state is on disk and the sandbox out of the
 * running set, a resume until envd in the sandbox has answered {@code /init}.
 */
public final class PauseResumeBenchmark {
  static final NetworkConfig NETWORK =
      new NetworkConfig("sbxr", "sbxr0", Ipv4Cidr.parse("10.233.0.0/24"), 0);

  /** {@code mib} MiB of random bytes held by a {@code tail} whose input never ends. */
  private static String hold(int mib) {
    return "((dd if=/dev/urandom bs=1M count="
        + mib
        + "; exec sleep 100000) </dev/null 2>/dev/null | tail -c "
        + (mib * 1024L * 1024)
        + " >/dev/null 2>&1) >/dev/null 2>&1 </dev/null &";
  }

  /** The live memory sizes measured, MiB. */
  private static final int[] LIVE_MIB = {256, 1024};

  private PauseResumeBenchmark() {}

  /** One runtime's results. */
  private record Result(
      String runtime,
      Samples idlePause,
      Samples idleResume,
      long idleSize,
      List<Live> live,
      long forkNanos,
      int forkStarted) {}

  /** Pause and resume of a sandbox holding {@code mib} MiB of live memory. */
  private record Live(int mib, Samples pause, Samples resume, long size, long usage) {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: PauseResumeBenchmark <envd-dist> [runs]");
      System.exit(2);
    }
    Path envdDist = Path.of(args[0]).toAbsolutePath();
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    System.out.println(Machine.describe());
    List<Result> results = new ArrayList<>();
    results.add(run(envdDist, runs, false, SavedStateSettings.DEFAULT.frozenLimit()));
    results.add(run(envdDist, runs, false, 0));
    results.add(run(envdDist, runs, true, 0));
    System.out.printf("pause/resume over gRPC, busybox template, %d runs each%n", runs);
    System.out.println(
        "| measure | " + String.join(" | ", results.stream().map(Result::runtime).toList()) + " |");
    System.out.println("|---" + "|---".repeat(results.size()) + "|");
    row(results, "idle: pause p50 / p95", r -> pct(r.idlePause()));
    row(results, "idle: resume p50 / p95", r -> pct(r.idleResume()));
    row(results, "idle: saved size (checkpoint + upper dir)", r -> mib(r.idleSize()));
    for (int n = 0; n < LIVE_MIB.length; n++) {
      int index = n;
      String live = LIVE_MIB[n] + " MiB live: ";
      row(results, live + "memory use before pause", r -> cell(r, index, l -> mib(l.usage())));
      row(results, live + "pause p50 / p95", r -> cell(r, index, l -> pct(l.pause())));
      row(results, live + "resume p50 / p95", r -> cell(r, index, l -> pct(l.resume())));
      row(results, live + "checkpoint size", r -> cell(r, index, l -> mib(l.size())));
      row(
          results,
          live + "pause per GiB of checkpoint (p50)",
          r ->
              cell(
                  r,
                  index,
                  l ->
                      String.format(
                          "%.2f s",
                          l.pause().percentileMillis(50)
                              / 1000.0
                              / (l.size() / (1024.0 * 1024 * 1024)))));
    }
    row(
        results,
        "fork of 10 (one call, all children ready)",
        r -> String.format("%.0f ms (%d of 10 started)", r.forkNanos() / 1e6, r.forkStarted()));
  }

  private static void row(
      List<Result> results, String name, java.util.function.Function<Result, String> cell) {
    System.out.println(
        "| " + name + " | " + String.join(" | ", results.stream().map(cell).toList()) + " |");
  }

  /** The cell of the {@code index}th live size, or a dash if the runtime kept no memory. */
  private static String cell(
      Result result, int index, java.util.function.Function<Live, String> format) {
    return index < result.live().size() ? format.apply(result.live().get(index)) : "–";
  }

  private static String pct(@Nullable Samples samples) {
    if (samples == null) {
      return "–";
    }
    return String.format(
        "%.0f / %.0f ms", samples.percentileMillis(50), samples.percentileMillis(95));
  }

  private static String mib(long bytes) {
    return String.format("%.1f MiB", bytes / (1024.0 * 1024));
  }

  private static Result run(Path envdDist, int runs, boolean gvisor, int frozenLimit)
      throws Exception {
    String name =
        gvisor
            ? "runsc (systrap)"
            : frozenLimit > 0
                ? "runc + CRIU, frozen while paused (resume thaws)"
                : "runc + CRIU, not frozen (resume restores the checkpoint)";
    Path workDir = Files.createTempDirectory("sbxr-bench-");
    RuncSettings runc =
        new RuncSettings(
            Path.of("runc"),
            workDir.resolve("runc-state"),
            workDir.resolve("sandboxes"),
            "sbxr-",
            "sbxr");
    OrchestratorConfig config =
        new OrchestratorConfig(
                InetAddress.getLoopbackAddress(),
                0,
                workDir.resolve("templates"),
                runc,
                NETWORK,
                new LifecycleSettings(
                    envdDist, 16, Duration.ofSeconds(120), Duration.ofMillis(20), List.of()))
            .withNodeProxy("127.0.0.1", 0)
            .withSavedState(
                SavedStateSettings.DEFAULT
                    .withDir(workDir.resolve("saved"))
                    .withFrozen(frozenLimit, SavedStateSettings.DEFAULT.frozenFor()));
    if (gvisor) {
      config =
          config.withRunsc(
              new RunscSettings(
                  Path.of("runsc"),
                  workDir.resolve("runsc-state"),
                  workDir.resolve("sandboxes"),
                  "sbxr-",
                  "sbxr",
                  "systrap"));
    }
    try {
      Path template = workDir.resolve("templates").resolve("busybox");
      BenchNode.busyboxTemplate(template.resolve(Template.ROOTFS_DIR));
      TemplateDirectory.writeSettings(template, TemplateSettings.DEFAULT);
      try (Orchestrator orchestrator = Orchestrator.start(config)) {
        boolean memory = orchestrator.lifecycle().runtime().canCheckpoint();
        if (!memory) {
          // runsc by default (RunscRuntime#canCheckpoint), runc without CRIU: files only
          name += ", files only (cold boot on resume)";
        }
        ManagedChannel channel =
            Grpc.newChannelBuilderForAddress(
                    "127.0.0.1", orchestrator.port(), InsecureChannelCredentials.create())
                .build();
        try {
          var sandboxes =
              SandboxServiceGrpc.newBlockingStub(channel).withDeadlineAfter(1, TimeUnit.HOURS);
          // idle
          create(sandboxes, "ridle", 512);
          cycle(sandboxes, "ridle"); // warm-up: JIT, page cache
          Samples idlePause = new Samples(runs);
          Samples idleResume = new Samples(runs);
          long idleSize = 0;
          for (int i = 0; i < runs; i++) {
            long start = System.nanoTime();
            PausedSandbox paused = pause(sandboxes, "ridle");
            idlePause.add(System.nanoTime() - start);
            idleSize = paused.getSizeBytes();
            start = System.nanoTime();
            resume(sandboxes, "ridle");
            idleResume.add(System.nanoTime() - start);
          }
          // fork of 10 from the idle sandbox
          ForkSandboxRequest.Builder fork = ForkSandboxRequest.newBuilder().setSandboxId("ridle");
          for (int n = 0; n < 10; n++) {
            fork.addChildren(CreateSandboxRequest.newBuilder().setSandboxId("rfork" + n));
          }
          long start = System.nanoTime();
          ForkSandboxResponse forked = sandboxes.fork(fork.build());
          long forkNanos = System.nanoTime() - start;
          int forkStarted = 0;
          for (var result : forked.getResultsList()) {
            if (result.hasSandbox()) {
              forkStarted++;
              delete(sandboxes, result.getSandbox().getSandboxId());
            } else {
              System.err.println("fork child failed: " + result.getErrorMessage());
            }
          }
          delete(sandboxes, "ridle");
          if (!memory) {
            System.out.printf("%s done, load %s%n", name, Machine.loadAverage());
            return new Result(
                name, idlePause, idleResume, idleSize, List.of(), forkNanos, forkStarted);
          }
          List<Live> live = new ArrayList<>();
          for (int mib : LIVE_MIB) {
            live.add(live(orchestrator, sandboxes, mib, runs));
          }
          System.out.printf("%s done, load %s%n", name, Machine.loadAverage());
          return new Result(name, idlePause, idleResume, idleSize, live, forkNanos, forkStarted);
        } finally {
          channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
      } finally {
        List<String> leaks = LeakInventory.find(config, null);
        if (!leaks.isEmpty()) {
          System.err.println("left on the host: " + leaks);
        }
      }
    } finally {
      DirectoryTree.delete(workDir);
      removeCgroupParent("sbxr");
    }
  }

  /**
   * Pauses and resumes {@code runs} times a sandbox holding {@code mib} MiB of random bytes,
   * checking after each resume that the holder still runs.
   */
  private static Live live(
      Orchestrator orchestrator,
      SandboxServiceGrpc.SandboxServiceBlockingStub sandboxes,
      int mib,
      int runs)
      throws InterruptedException {
    String id = "rlive" + mib;
    create(sandboxes, id, mib + 768);
    sh(orchestrator, id, hold(mib));
    long usage = awaitUsage(orchestrator, id, (long) mib << 20);
    System.out.println(sh(orchestrator, id, "ps -o pid,rss,args"));
    Samples pause = new Samples(runs);
    Samples resume = new Samples(runs);
    long size = 0;
    for (int i = 0; i < runs; i++) {
      long start = System.nanoTime();
      PausedSandbox paused = pause(sandboxes, id);
      pause.add(System.nanoTime() - start);
      size = paused.getSizeBytes();
      start = System.nanoTime();
      resume(sandboxes, id);
      resume.add(System.nanoTime() - start);
      String ps = sh(orchestrator, id, "ps -o pid,rss,args");
      if (!ps.contains("tail -c")) {
        throw new IllegalStateException("the memory holder is gone after resume " + i + ":\n" + ps);
      }
    }
    delete(sandboxes, id);
    return new Live(mib, pause, resume, size, usage);
  }

  /** Removes the (empty) parent cgroup {@code /<name>} the runtimes made in every hierarchy. */
  private static void removeCgroupParent(String name) throws java.io.IOException {
    try (var hierarchies = Files.newDirectoryStream(Path.of("/sys/fs/cgroup"))) {
      for (Path hierarchy : hierarchies) {
        Path parent = hierarchy.resolve(name);
        if (Files.isDirectory(parent)) {
          try (var children = Files.newDirectoryStream(parent, Files::isDirectory)) {
            for (Path child : children) {
              Files.deleteIfExists(child);
            }
          }
          Files.deleteIfExists(parent);
        }
      }
    }
  }

  private static void create(
      SandboxServiceGrpc.SandboxServiceBlockingStub sandboxes, String id, int memoryMb) {
    sandboxes.create(
        CreateSandboxRequest.newBuilder()
            .setSandboxId(id)
            .setTemplateId("busybox")
            .setCpuCount(2)
            .setMemoryMb(memoryMb)
            .setEnvdAccessToken("bench-" + id)
            .build());
  }

  private static PausedSandbox pause(
      SandboxServiceGrpc.SandboxServiceBlockingStub sandboxes, String id) {
    return sandboxes.pause(
        PauseSandboxRequest.newBuilder().setSandboxId(id).setMemory(true).build());
  }

  private static void resume(SandboxServiceGrpc.SandboxServiceBlockingStub sandboxes, String id) {
    sandboxes.resume(ResumeSandboxRequest.newBuilder().setSandboxId(id).build());
  }

  private static void cycle(SandboxServiceGrpc.SandboxServiceBlockingStub sandboxes, String id) {
    pause(sandboxes, id);
    resume(sandboxes, id);
  }

  private static void delete(SandboxServiceGrpc.SandboxServiceBlockingStub sandboxes, String id) {
    sandboxes.delete(DeleteSandboxRequest.newBuilder().setSandboxId(id).build());
  }

  private static String sh(Orchestrator orchestrator, String id, String script) {
    ExecResult result =
        orchestrator
            .lifecycle()
            .runtime()
            .exec(
                orchestrator.lifecycle().get(id).orElseThrow().containerId(),
                List.of("/bin/sh", "-c", script),
                Duration.ofSeconds(60));
    if (result.exitCode() != 0) {
      throw new IllegalStateException(script + ": " + result);
    }
    return result.stdout().strip();
  }

  /** Waits until the sandbox's cgroup uses at least {@code bytes}; returns the use. */
  private static long awaitUsage(Orchestrator orchestrator, String id, long bytes)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    long usage = 0;
    while (System.nanoTime() < deadline) {
      usage = orchestrator.pauses().memoryUsage(id);
      if (usage >= bytes) {
        return usage;
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException(id + " holds only " + usage + " bytes after 2 minutes");
  }
}
