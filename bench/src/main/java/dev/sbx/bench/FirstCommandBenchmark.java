package dev.sbx.bench;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.sbx.cli.server.SingleNodeServer;
import dev.sbx.orchestrator.LeakInventory;
import dev.sbx.orchestrator.OrchestratorConfig;
import dev.sbx.orchestrator.lifecycle.LifecycleSettings;
import dev.sbx.orchestrator.lifecycle.WarmPoolSettings;
import dev.sbx.orchestrator.network.Ipv4Cidr;
import dev.sbx.orchestrator.network.NetworkConfig;
import dev.sbx.orchestrator.rootfs.DirectoryTree;
import dev.sbx.orchestrator.runtime.RuncSettings;
import dev.sbx.sdk.ConnectionConfig;
import dev.sbx.sdk.Sandbox;
import dev.sbx.sdk.SandboxOptions;
import dev.sbx.testing.NodeProject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Time to first command (issue 6's target: ≤ 60 ms p50 from the warm pool): {@code Sandbox.create}
 * from the {@code base} template plus {@code commands.run("echo hi")} until its output is back,
 * through the Java SDK ({@code sdk/}) and through the official JS SDK ({@code e2b} 2.51.0 on node,
 * {@code bench/js/first-command.mjs}), side by side in one run against a single-node server on
 * loopback (what {@code sbx up} runs: API with SQLite, client proxy, orchestrator on runc; the SDKs
 * reach envd through the client proxy, {@code E2B_SANDBOX_URL}).
 *
 * <p>Needs root, runc, nftables, node ≥ 20.18.1 with {@code it/js}'s {@code npm ci} (run when
 * missing), and the {@code base} template in {@code /var/lib/sbx/templates}. Its own layout:
 * containers {@code sbxf-…}, cgroup {@code /sbxf}, bridge {@code sbxf0}, 10.243.0.0/24, removed at
 * the end. The {@code base} template gets a warm pool ({@code sbx up}'s default of 2 unless told);
 * each run first waits until the pool is full again, so every create is a warm claim on a node at
 * rest; the two SDKs take turns. The kill after a run is not timed.
 *
 * <p>{@code java -cp … dev.sbx.bench.FirstCommandBenchmark <envd-dist> [runs] [pool size]}, from
 * the repository's root ({@code ./sbx bench first-command [runs] [pool size]}).
 */
public final class FirstCommandBenchmark {
  private static final Path TEMPLATES = Path.of("/var/lib/sbx/templates");
  private static final String TEMPLATE = "base";
  private static final String PREFIX = "sbxf";
  private static final String DOMAIN = "sbxf.test";

  /**
   * Commands each SDK runs in one sandbox before the first timed run, so that the server's request
   * paths are compiled as on a server that has been up a while.
   */
  private static final int SERVER_WARM_UP_COMMANDS =
      Integer.getInteger("sbx.bench.warmUpCommands", 300);

  private FirstCommandBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: FirstCommandBenchmark <envd-dist> [runs] [pool size]");
      System.exit(2);
    }
    Path envdDist = Path.of(args[0]).toAbsolutePath().normalize();
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 30;
    int poolSize = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    Path repo = Path.of(System.getProperty("sbx.repo.root", ".")).toAbsolutePath().normalize();
    if (!Files.isRegularFile(TEMPLATES.resolve(TEMPLATE).resolve("template.json"))) {
      throw new IllegalStateException(
          "the base template is missing: build it with ./sbx template build-base");
    }
    NodeProject js = NodeProject.at(repo.resolve("it/js"), System.err);
    js.installDependencies();
    Path script = repo.resolve("bench/js/first-command.mjs");

    Path work = Files.createTempDirectory("sbxf-bench-");
    OrchestratorConfig orchestrator =
        new OrchestratorConfig(
                InetAddress.getLoopbackAddress(),
                0,
                TEMPLATES,
                new RuncSettings(
                    Path.of("runc"),
                    work.resolve("runc"),
                    work.resolve("sandboxes"),
                    PREFIX + "-",
                    PREFIX),
                new NetworkConfig(PREFIX, PREFIX + "0", Ipv4Cidr.parse("10.243.0.0/24"), 2),
                LifecycleSettings.of(envdDist)
                    .withMaxSandboxes(10)
                    .withReaperInterval(Duration.ofMillis(100))
                    .withWarmPool(new WarmPoolSettings(0, Map.of(TEMPLATE, poolSize))))
            .withNodeProxy("127.0.0.1", 0);
    System.out.println(Machine.describe());
    try {
      try (SingleNodeServer server =
          SingleNodeServer.start(settings(work.resolve("data"), orchestrator))) {
        awaitTemplate(server);
        String apiKey = server.firstApiKey().orElseThrow();
        ConnectionConfig connection =
            ConnectionConfig.builder()
                .environment(Map.of())
                .apiKey(apiKey)
                .apiUrl(server.apiUrl())
                .sandboxUrl(server.proxyUrl())
                .domain(DOMAIN)
                .build();
        ProcessBuilder node =
            new ProcessBuilder("node", script.toString())
                .directory(js.directory().toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        node.environment()
            .putAll(
                Map.of(
                    "E2B_API_KEY",
                    apiKey,
                    "E2B_API_URL",
                    server.apiUrl(),
                    "E2B_SANDBOX_URL",
                    server.proxyUrl(),
                    "E2B_DOMAIN",
                    DOMAIN,
                    "SBX_E2B_PACKAGE",
                    "e2b-2.51",
                    "SBX_TEMPLATE",
                    TEMPLATE));
        Process jsProcess = node.start();
        try (Writer toJs =
                new OutputStreamWriter(jsProcess.getOutputStream(), StandardCharsets.UTF_8);
            BufferedReader fromJs =
                new BufferedReader(
                    new InputStreamReader(jsProcess.getInputStream(), StandardCharsets.UTF_8))) {
          JsRunner jsRunner = new JsRunner(toJs, fromJs);
          // a server that has been up a while: the proxies' and envd's request paths compiled
          awaitWarm(server, poolSize);
          javaWarmUp(connection, SERVER_WARM_UP_COMMANDS);
          awaitWarm(server, poolSize);
          jsRunner.warmUp(SERVER_WARM_UP_COMMANDS);
          // three of each first: JIT, node's module loading, connections, the page cache
          for (int i = 0; i < 3; i++) {
            awaitWarm(server, poolSize);
            javaRun(connection);
            awaitWarm(server, poolSize);
            jsRunner.run();
          }
          Samples javaTotal = new Samples(runs);
          Samples javaCreate = new Samples(runs);
          Samples jsTotal = new Samples(runs);
          Samples jsCreate = new Samples(runs);
          Samples javaSecond = new Samples(runs);
          Samples jsSecond = new Samples(runs);
          String loadBefore = Machine.loadAverage();
          for (int i = 0; i < runs; i++) {
            awaitWarm(server, poolSize);
            long[] java = javaRun(connection);
            javaCreate.add(java[0]);
            javaTotal.add(java[1]);
            javaSecond.add(java[2]);
            awaitWarm(server, poolSize);
            long[] node2 = jsRunner.run();
            jsCreate.add(node2[0]);
            jsTotal.add(node2[1]);
            jsSecond.add(node2[2]);
          }
          System.out.printf(
              "time to first command (create from a full warm pool of %d + `echo hi`), %d runs"
                  + " each, loopback, load %s → %s%n",
              poolSize, runs, loadBefore, Machine.loadAverage());
          System.out.println(
              "| SDK | create + echo p50 | p95 | create alone p50 | p95 |"
                  + " second echo (same sandbox) p50 | p95 |");
          System.out.println("|---|---|---|---|---|---|---|");
          row("Java SDK (sdk/)", javaTotal, javaCreate, javaSecond);
          row("JS SDK e2b 2.51.0 (node " + nodeVersion() + ")", jsTotal, jsCreate, jsSecond);
        } finally {
          if (!jsProcess.waitFor(30, TimeUnit.SECONDS)) {
            jsProcess.destroyForcibly();
          }
        }
      }
      List<String> leaks = LeakInventory.find(orchestrator, null);
      if (!leaks.isEmpty()) {
        System.err.println("left on the host: " + leaks);
      }
    } finally {
      removeCgroup();
      DirectoryTree.delete(work);
    }
  }

  /** {@code sbx up}'s server on free loopback ports: SQLite in {@code data}, no admin token. */
  // NullAway reads the record's type-use @Nullable (ApiConfig.@Nullable Postgres) from the class
  // file as non-null; both nulls are allowed by SingleNodeServer.Settings
  @SuppressWarnings("NullAway")
  private static SingleNodeServer.Settings settings(Path data, OrchestratorConfig orchestrator) {
    return new SingleNodeServer.Settings(
        "127.0.0.1", 0, 0, 0, data, null, DOMAIN, null, orchestrator);
  }

  private static void row(String sdk, Samples total, Samples create, Samples second) {
    System.out.printf(
        "| %s | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %.1f ms |%n",
        sdk,
        total.percentileMillis(50),
        total.percentileMillis(95),
        create.percentileMillis(50),
        create.percentileMillis(95),
        second.percentileMillis(50),
        second.percentileMillis(95));
  }

  /**
   * One Java run: nanoseconds until create returned, until the echo's output was back, and of a
   * second echo in the same sandbox (untimed for the total).
   */
  private static long[] javaRun(ConnectionConfig connection) {
    long start = System.nanoTime();
    Sandbox sandbox =
        Sandbox.create(SandboxOptions.builder().connection(connection).template(TEMPLATE).build());
    long created = System.nanoTime();
    try {
      String out = sandbox.commands().run("echo hi").stdout();
      long end = System.nanoTime();
      if (!out.equals("hi\n")) {
        throw new IllegalStateException("echo hi printed " + out);
      }
      // not part of the time to first command: what the same command costs once envd is warm
      long second = System.nanoTime();
      sandbox.commands().run("echo hi");
      long secondEnd = System.nanoTime();
      return new long[] {created - start, end - start, secondEnd - second};
    } finally {
      sandbox.close();
    }
  }

  /** Runs {@code commands} commands in one sandbox. */
  private static void javaWarmUp(ConnectionConfig connection, int commands) {
    try (Sandbox sandbox =
        Sandbox.create(
            SandboxOptions.builder().connection(connection).template(TEMPLATE).build())) {
      for (int i = 0; i < commands; i++) {
        sandbox.commands().run("echo hi");
      }
    }
  }

  /** Drives {@code first-command.mjs}: one line per run. */
  private record JsRunner(Writer in, BufferedReader out) {
    void warmUp(int commands) throws IOException {
      answer("warm " + commands);
    }

    long[] run() throws IOException {
      JsonObject answer = answer("run");
      if (!answer.get("stdout").getAsString().equals("hi\n")) {
        throw new IllegalStateException("echo hi printed " + answer.get("stdout"));
      }
      return new long[] {
        (long) (answer.get("createMs").getAsDouble() * 1e6),
        (long) (answer.get("totalMs").getAsDouble() * 1e6),
        (long) (answer.get("secondMs").getAsDouble() * 1e6)
      };
    }

    private JsonObject answer(String request) throws IOException {
      in.write(request + "\n");
      in.flush();
      String line = out.readLine();
      if (line == null) {
        throw new IllegalStateException("the node benchmark ended early (its output is above)");
      }
      JsonObject answer = JsonParser.parseString(line).getAsJsonObject();
      if (answer.has("error")) {
        throw new IllegalStateException("JS SDK run failed: " + answer.get("error").getAsString());
      }
      return answer;
    }
  }

  /**
   * Waits until the API has registered the node's {@code base} template: under load the first node
   * check can miss its deadline, and a create before the next one is a 404.
   */
  private static void awaitTemplate(SingleNodeServer server) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (server.api().store().template(TEMPLATE).isEmpty()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the API did not see the node's template in two minutes");
      }
      server.api().checkNodes();
      Thread.sleep(100);
    }
  }

  private static void awaitWarm(SingleNodeServer server, int poolSize) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (server.orchestrator().lifecycle().warmPoolCounts().getOrDefault(TEMPLATE, 0)
        < poolSize) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the warm pool did not refill within two minutes");
      }
      Thread.sleep(10);
    }
  }

  private static String nodeVersion() {
    try {
      Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
      String v = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      p.waitFor();
      return v;
    } catch (IOException | InterruptedException e) {
      return "?";
    }
  }

  /** The sandboxes' parent cgroup (cgroup v2: below the root; v1: one per hierarchy). */
  private static void removeCgroup() throws IOException {
    Path cgroups = Path.of("/sys/fs/cgroup");
    Files.deleteIfExists(cgroups.resolve(PREFIX));
    try (Stream<Path> hierarchies = Files.list(cgroups)) {
      for (Path hierarchy : hierarchies.filter(Files::isDirectory).toList()) {
        Files.deleteIfExists(hierarchy.resolve(PREFIX));
      }
    }
  }
}
