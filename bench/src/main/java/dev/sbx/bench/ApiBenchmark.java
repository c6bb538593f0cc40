package dev.sbx.bench;

import com.google.gson.JsonParser;
import dev.sbx.api.ApiConfig;
import dev.sbx.api.ApiServer;
import dev.sbx.api.node.NodeAddress;
import dev.sbx.api.store.TeamLimits;
import dev.sbx.cli.server.SingleNodeServer;
import dev.sbx.orchestrator.LeakInventory;
import dev.sbx.orchestrator.OrchestratorConfig;
import dev.sbx.orchestrator.lifecycle.LifecycleSettings;
import dev.sbx.orchestrator.lifecycle.WarmPoolSettings;
import dev.sbx.orchestrator.network.Ipv4Cidr;
import dev.sbx.orchestrator.network.NetworkConfig;
import dev.sbx.orchestrator.rootfs.DirectoryTree;
import dev.sbx.orchestrator.runtime.RuncSettings;
import dev.sbx.proxy.catalog.InMemoryCatalog;
import dev.sbx.sdk.ConnectionConfig;
import dev.sbx.sdk.Sandbox;
import dev.sbx.sdk.SandboxOptions;
import dev.sbx.testing.PostgresServer;
import java.net.InetAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The API server's own cost (issue 4): the real {@link ApiServer} with its real store (SQLite in a
 * file, or PostgreSQL through {@code testing}'s {@link PostgresServer}) in front of a {@link
 * StubNode} whose Create answers at once, over plaintext gRPC on loopback.
 *
 * <ul>
 *   <li>{@code Sandbox.create()} through the Java SDK ({@code sdk/}, {@code POST /v2/sandboxes}),
 *       one at a time, until {@code sandboxes} are on record; the first 20 are warm-up. The node's
 *       time inside Create is recorded beside it: the rest is the API's (and the SDK's and
 *       loopback's) share of a create.
 *   <li>With them all running, in turn (5 warm-up rounds): {@code GET /v2/sandboxes?limit=100} (one
 *       page), every page through {@code X-Next-Token}, {@code GET
 *       /v2/sandboxes?metadata=group%3D3} (a tenth match), and v1 {@code GET /sandboxes} (all in
 *       one answer), over {@code java.net.http}; every answer's size is checked.
 * </ul>
 *
 * <p>Runs as root for PostgreSQL (skipped with a note when it is not installed: {@code
 * scripts/install-deps.sh test}). {@code java -cp … dev.sbx.bench.ApiBenchmark [sandboxes] [runs]
 * [sqlite,postgres]} from the repository's root ({@code ./sbx bench api …}); {@code ApiBenchmark
 * node <envd-dist> [runs]} ({@code ./sbx bench api node [runs]}) times the same create against a
 * real single-node server instead (see {@code realNode}).
 */
public final class ApiBenchmark {
  private static final int WARMUP_CREATES = 20;
  private static final int WARMUP_LISTS = 5;
  private static final byte[] TOKEN_SEED =
      "api-benchmark-token-seed-0123456789".getBytes(StandardCharsets.UTF_8);

  private ApiBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("node")) {
      if (args.length < 2) {
        System.err.println("usage: ApiBenchmark node <envd-dist> [runs]");
        System.exit(2);
      }
      realNode(
          Path.of(args[1]).toAbsolutePath().normalize(),
          args.length > 2 ? Integer.parseInt(args[2]) : 20);
      return;
    }
    int sandboxes = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 50;
    List<String> stores = List.of((args.length > 2 ? args[2] : "sqlite,postgres").split(","));
    if (sandboxes <= WARMUP_CREATES || runs < 1) {
      System.err.println("usage: ApiBenchmark [sandboxes > 20] [runs ≥ 1] [sqlite,postgres]");
      System.exit(2);
    }
    System.out.println(Machine.describe());
    List<String> rows = new ArrayList<>();
    for (String store : stores) {
      switch (store) {
        case "sqlite" -> rows.addAll(run("SQLite", null, sandboxes, runs));
        case "postgres" -> {
          if (!PostgresServer.available()) {
            System.out.println(
                "PostgreSQL skipped: needs root and PostgreSQL (scripts/install-deps.sh test)");
            continue;
          }
          try (PostgresServer server = PostgresServer.start()) {
            rows.addAll(run("PostgreSQL", database(server), sandboxes, runs));
          }
        }
        default -> throw new IllegalArgumentException("unknown store " + store);
      }
    }
    System.out.println();
    System.out.println("| store | what | p50 | p95 |");
    System.out.println("|---|---|---|---|");
    rows.forEach(System.out::println);
  }

  /**
   * {@code Sandbox.create()} to ready end to end: the Java SDK against {@code sbx up}'s single-node
   * server (API on SQLite, orchestrator on runc) with a warm pool of one {@code base} sandbox; each
   * run waits until the pool holds one, so every create is a warm claim. The kill is not timed.
   * Root, runc, nftables and the {@code base} template; its own layout {@code sbxh}, 10.245.0.0/24,
   * removed at the end.
   */
  private static void realNode(Path envdDist, int runs) throws Exception {
    Path templates = Path.of("/var/lib/sbx/templates");
    String prefix = "sbxh";
    if (!Files.isRegularFile(templates.resolve("base").resolve("template.json"))) {
      throw new IllegalStateException(
          "the base template is missing: build it with ./sbx template build-base");
    }
    System.out.println(Machine.describe());
    Path work = Files.createTempDirectory("sbxh-bench-");
    OrchestratorConfig orchestrator =
        new OrchestratorConfig(
                InetAddress.getLoopbackAddress(),
                0,
                templates,
                new RuncSettings(
                    Path.of("runc"),
                    work.resolve("runc"),
                    work.resolve("sandboxes"),
                    prefix + "-",
                    prefix),
                new NetworkConfig(prefix, prefix + "0", Ipv4Cidr.parse("10.245.0.0/24"), 2),
                LifecycleSettings.of(envdDist)
                    .withMaxSandboxes(10)
                    .withReaperInterval(Duration.ofMillis(100))
                    .withWarmPool(new WarmPoolSettings(0, Map.of("base", 1))))
            .withNodeProxy("127.0.0.1", 0);
    try {
      try (SingleNodeServer server =
          SingleNodeServer.start(singleNode(work.resolve("data"), orchestrator))) {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (server.api().store().template("base").isEmpty()) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("the API did not see the node's template");
          }
          server.api().checkNodes();
          Thread.sleep(100);
        }
        ConnectionConfig connection =
            ConnectionConfig.builder()
                .environment(Map.of())
                .apiKey(server.firstApiKey().orElseThrow())
                .apiUrl(server.apiUrl())
                .sandboxUrl(server.proxyUrl())
                .build();
        Samples create = new Samples(runs);
        String loadBefore = Machine.loadAverage();
        for (int i = -3; i < runs; i++) {
          awaitWarm(server);
          long start = System.nanoTime();
          Sandbox sandbox =
              Sandbox.create(
                  SandboxOptions.builder().connection(connection).template("base").build());
          long elapsed = System.nanoTime() - start;
          sandbox.close();
          if (i >= 0) {
            create.add(elapsed);
          }
        }
        System.out.printf(
            "real node (runc, warm pool of 1), %d runs after 3 warm-up, load %s → %s%n",
            runs, loadBefore, Machine.loadAverage());
        System.out.printf(
            "| SQLite + runc node | `Sandbox.create()` (Java SDK) to ready, warm claim | %.1f ms |"
                + " %.1f ms |%n",
            create.percentileMillis(50), create.percentileMillis(95));
      }
      List<String> leaks = LeakInventory.find(orchestrator, null);
      if (!leaks.isEmpty()) {
        System.err.println("left on the host: " + leaks);
      }
    } finally {
      Path cgroups = Path.of("/sys/fs/cgroup");
      Files.deleteIfExists(cgroups.resolve(prefix));
      try (var hierarchies = Files.list(cgroups)) {
        for (Path hierarchy : hierarchies.filter(Files::isDirectory).toList()) {
          Files.deleteIfExists(hierarchy.resolve(prefix));
        }
      }
      DirectoryTree.delete(work);
    }
  }

  // NullAway reads the record's type-use @Nullable from the class file as non-null; both nulls are
  // allowed by SingleNodeServer.Settings (as in FirstCommandBenchmark)
  @SuppressWarnings("NullAway")
  private static SingleNodeServer.Settings singleNode(Path data, OrchestratorConfig orchestrator) {
    return new SingleNodeServer.Settings(
        "127.0.0.1", 0, 0, 0, data, null, "sbxh.test", null, orchestrator);
  }

  private static void awaitWarm(SingleNodeServer server) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (server.orchestrator().lifecycle().warmPoolCounts().getOrDefault("base", 0) < 1) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the warm pool did not refill within two minutes");
      }
      Thread.sleep(10);
    }
  }

  /** A fresh database {@code sbx_bench} on {@code server} (it may still be starting up). */
  private static ApiConfig.Postgres database(PostgresServer server) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try (Connection connection =
              DriverManager.getConnection(server.jdbcUrl(), server.user(), "");
          Statement statement = connection.createStatement()) {
        statement.execute("CREATE DATABASE sbx_bench");
        break;
      } catch (SQLException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(200);
      }
    }
    return new ApiConfig.Postgres(
        server.jdbcUrl().replace("/postgres", "/sbx_bench"), server.user(), "", 8);
  }

  private static List<String> run(
      String storeName, ApiConfig.@Nullable Postgres postgres, int sandboxes, int runs)
      throws Exception {
    Path data = Files.createTempDirectory("sbx-api-bench-");
    try (StubNode node = new StubNode()) {
      ApiConfig config =
          ApiConfig.defaults(
                  data, List.of(new NodeAddress("stub", node.target(), "127.0.0.1", 9)), TOKEN_SEED)
              .withPort(0)
              .withFirstTeamLimits(
                  new TeamLimits(sandboxes + 10, 1, 8, 8192, 1_000_000, 1_000_000));
      if (postgres != null) {
        config = config.withPostgres(postgres);
      }
      try (ApiServer api = ApiServer.start(config, new InMemoryCatalog())) {
        return measure(storeName, api, node, sandboxes, runs);
      }
    } finally {
      DirectoryTree.delete(data);
    }
  }

  private static List<String> measure(
      String storeName, ApiServer api, StubNode node, int sandboxes, int runs) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    while (api.store().template(StubNode.TEMPLATE).isEmpty()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the API did not register the stub node's template");
      }
      api.checkNodes();
      Thread.sleep(50);
    }
    String apiUrl = "http://127.0.0.1:" + api.port();
    String key = api.firstApiKey().orElseThrow();
    ConnectionConfig connection =
        ConnectionConfig.builder().environment(Map.of()).apiKey(key).apiUrl(apiUrl).build();

    String loadBefore = Machine.loadAverage();
    int timed = sandboxes - WARMUP_CREATES;
    int tail = Math.min(100, timed);
    Samples create = new Samples(timed);
    Samples nodeCreate = new Samples(timed);
    Samples lastCreates = new Samples(tail);
    for (int i = 0; i < sandboxes; i++) {
      long start = System.nanoTime();
      Sandbox sandbox =
          Sandbox.create(
              SandboxOptions.builder()
                  .connection(connection)
                  .template(StubNode.TEMPLATE)
                  .timeout(Duration.ofMinutes(59))
                  .metadata(Map.of("bench", "api", "group", String.valueOf(i % 10)))
                  .build());
      long elapsed = System.nanoTime() - start;
      if (sandbox.sandboxId().isEmpty()) {
        throw new IllegalStateException("create answered without an id");
      }
      if (i >= WARMUP_CREATES) {
        create.add(elapsed);
        nodeCreate.add(node.lastCreateNanos());
      }
      if (i >= sandboxes - tail) {
        lastCreates.add(elapsed);
      }
    }
    if (node.size() != sandboxes) {
      throw new IllegalStateException(node.size() + " sandboxes on the node, not " + sandboxes);
    }
    String loadAfterCreates = Machine.loadAverage();

    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    Lister lister = new Lister(http, apiUrl, key);
    int group3 = (sandboxes + 6) / 10; // i % 10 == 3 for i in [0, sandboxes)
    String filter = "metadata=" + URLEncoder.encode("group=3", StandardCharsets.UTF_8);
    List<Call> calls =
        List.of(
            () -> lister.expect("/v2/sandboxes?limit=100", null, 100),
            () -> lister.walk(sandboxes),
            () -> lister.expect("/v2/sandboxes?limit=100&" + filter, null, Math.min(100, group3)),
            () -> lister.expect("/sandboxes", null, sandboxes),
            () -> lister.expect("/sandboxes?" + filter, null, group3));
    List<Samples> lists = time(runs, calls);
    Samples page = lists.get(0);
    Samples walk = lists.get(1);
    Samples filtered = lists.get(2);
    Samples v1 = lists.get(3);
    Samples v1Filtered = lists.get(4);
    System.out.printf(
        "%s: %d creates (load %s → %s), %d runs of each list (load → %s)%n",
        storeName, sandboxes, loadBefore, loadAfterCreates, runs, Machine.loadAverage());

    List<String> rows = new ArrayList<>();
    rows.add(row(storeName, "`Sandbox.create()` (Java SDK), all but 20 warm-up", create));
    rows.add(row(storeName, "  of it inside the node's Create (stub)", nodeCreate));
    rows.add(
        row(storeName, "`Sandbox.create()`, the last " + tail + " (≥ 900 on record)", lastCreates));
    rows.add(row(storeName, "`GET /v2/sandboxes?limit=100` (first page)", page));
    rows.add(
        row(
            storeName,
            "`GET /v2/sandboxes` all " + sandboxes + " (" + (sandboxes + 99) / 100 + " pages)",
            walk));
    rows.add(
        row(storeName, "`GET /v2/sandboxes?metadata=group=3` (" + group3 + " match)", filtered));
    rows.add(row(storeName, "v1 `GET /sandboxes` (all " + sandboxes + ")", v1));
    rows.add(
        row(storeName, "v1 `GET /sandboxes?metadata=group=3` (" + group3 + " match)", v1Filtered));
    return rows;
  }

  private interface Call {
    void run() throws Exception;
  }

  /** The calls in turn, {@code runs} times after warm-up, so load and JIT touch them alike. */
  private static List<Samples> time(int runs, List<Call> calls) throws Exception {
    for (int i = 0; i < WARMUP_LISTS; i++) {
      for (Call call : calls) {
        call.run();
      }
    }
    List<Samples> samples = new ArrayList<>();
    for (int c = 0; c < calls.size(); c++) {
      samples.add(new Samples(runs));
    }
    for (int i = 0; i < runs; i++) {
      for (int c = 0; c < calls.size(); c++) {
        long start = System.nanoTime();
        calls.get(c).run();
        samples.get(c).add(System.nanoTime() - start);
      }
    }
    return samples;
  }

  private static String row(String store, String what, Samples samples) {
    return String.format(
        "| %s | %s | %.2f ms | %.2f ms |",
        store, what, samples.percentileMillis(50), samples.percentileMillis(95));
  }

  /** List calls with the API key; each checks the status and the number of sandboxes answered. */
  private record Lister(HttpClient http, String apiUrl, String key) {
    /** GETs {@code path}; returns {@code X-Next-Token} (or null) after checking the count. */
    @Nullable String expect(String path, @Nullable String nextToken, int count) throws Exception {
      String uri = apiUrl + path;
      if (nextToken != null) {
        uri +=
            (path.contains("?") ? "&" : "?")
                + "nextToken="
                + URLEncoder.encode(nextToken, StandardCharsets.UTF_8);
      }
      HttpResponse<String> response =
          http.send(
              HttpRequest.newBuilder(URI.create(uri)).header("X-API-Key", key).GET().build(),
              HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IllegalStateException(
            "GET " + path + " answered " + response.statusCode() + ": " + response.body());
      }
      int size = JsonParser.parseString(response.body()).getAsJsonArray().size();
      if (size != count) {
        throw new IllegalStateException(
            "GET " + path + " listed " + size + " sandboxes, not " + count);
      }
      return response.headers().firstValue("X-Next-Token").orElse(null);
    }

    /** Every page of {@code GET /v2/sandboxes?limit=100}. */
    void walk(int total) throws Exception {
      String token = null;
      int seen = 0;
      do {
        int expected = Math.min(100, total - seen);
        token = expect("/v2/sandboxes?limit=100", token, expected);
        seen += expected;
      } while (token != null && seen < total);
      if (seen != total || token != null && seen == total && total % 100 != 0) {
        throw new IllegalStateException("the pages listed " + seen + " of " + total);
      }
    }
  }
}
