package dev.sbx.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sbx.api.ApiConfig;
import dev.sbx.api.store.Team;
import dev.sbx.api.store.TeamLimits;
import dev.sbx.cli.server.SingleNodeServer;
import dev.sbx.orchestrator.OrchestratorConfig;
import dev.sbx.orchestrator.lifecycle.LifecycleSettings;
import dev.sbx.orchestrator.network.Ipv4Cidr;
import dev.sbx.orchestrator.network.NetworkConfig;
import dev.sbx.orchestrator.runtime.RuncSettings;
import dev.sbx.sdk.ConnectionConfig;
import dev.sbx.sdk.Sandbox;
import dev.sbx.sdk.SandboxInfo;
import dev.sbx.sdk.SandboxOptions;
import dev.sbx.sdk.SandboxQuery;
import dev.sbx.sdk.SandboxState;
import dev.sbx.testing.NodeProject;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The acceptance suite of the whole platform: a single-node server (API + client proxy +
 * orchestrator on runc, in this JVM, exactly what {@code sbx up} runs) and the official {@code e2b}
 * npm SDK, 2.45.0 and 2.51.0, pointed at it with {@code E2B_API_URL} and {@code E2B_SANDBOX_URL}
 * (header routing), as a user would after {@code sbx up}. The JavaScript tests are in {@code
 * it/js/platform}. Sandboxes start from the {@code base} template (built once into {@code
 * /var/lib/sbx/templates} by the orchestrator's tests or {@code sbx template build-base}).
 *
 * <p>Root only (runc, network namespaces). Its own layout: containers {@code sbxp-…}, cgroups
 * {@code /sbxp}, bridge {@code sbxp0}, addresses 10.236.0.0/24, all removed when the server stops.
 * Run once per store: {@link PlatformSqliteIT} (the default of {@code sbx up}) and {@link
 * PlatformPostgresIT}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class PlatformSuite {
  private static final Path TEMPLATES = Path.of("/var/lib/sbx/templates");
  private static final String DOMAIN = "sbx.test";
  private static final int LIMITED_CONCURRENCY = 2;
  private static final Duration SUITE_TIMEOUT = Duration.ofMinutes(15);

  /**
   * {@code -Dsbx.it.platform.only=pause}: only {@code platform/pause.test.mjs} (while iterating).
   */
  private static final String ONLY = System.getProperty("sbx.it.platform.only", "");

  private static final NodeProject JS =
      NodeProject.at(Path.of(System.getProperty("sbx.it.js", "js")));

  private @Nullable Path work;
  private @Nullable SingleNodeServer server;
  private String apiKey = "";
  private String limitedKey = "";

  /** The API's PostgreSQL, or null for SQLite in the data directory. */
  abstract ApiConfig.@Nullable Postgres database() throws Exception;

  /** Stops what {@link #database()} started (after the server stopped). */
  void closeDatabase() {}

  @BeforeAll
  void start() throws Exception {
    assertThat(System.getProperty("user.name")).as("runs as root (runc, netns)").isEqualTo("root");
    assertThat(TEMPLATES.resolve("base").resolve("template.json"))
        .as("the base template (./sbx template build-base) must exist")
        .exists();
    JS.installDependencies();
    Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "platform-");
    work = dir;
    Path envdDist =
        Path.of(System.getProperty("sbx.repo.root", "..")).resolve("envd/target/envd-dist");
    OrchestratorConfig orchestrator =
        new OrchestratorConfig(
                InetAddress.getLoopbackAddress(),
                0,
                TEMPLATES,
                new RuncSettings(
                    Path.of("runc"),
                    dir.resolve("runc"),
                    dir.resolve("sandboxes"),
                    "sbxp-",
                    "sbxp"),
                new NetworkConfig("sbxp", "sbxp0", Ipv4Cidr.parse("10.236.0.0/24"), 2),
                LifecycleSettings.of(envdDist.toAbsolutePath().normalize()).withMaxSandboxes(20))
            .withNodeProxy("127.0.0.1", 0);
    server =
        SingleNodeServer.start(
            new SingleNodeServer.Settings(
                "127.0.0.1", 0, 0, 0, dir.resolve("data"), database(), DOMAIN, null, orchestrator));
    apiKey = server.firstApiKey().orElseThrow();
    Team limited =
        server
            .api()
            .store()
            .createTeam("limited", new TeamLimits(LIMITED_CONCURRENCY, 1, 8, 8192, 50, 100));
    limitedKey = server.api().store().createApiKey(limited.id(), "platform-it").secret();
    System.out.println("[it] sbx up: API " + server.apiUrl() + ", proxy " + server.proxyUrl());
  }

  @AfterAll
  void stop() throws IOException {
    try {
      if (server != null) {
        server.close();
      }
    } finally {
      closeDatabase();
      // the sandboxes' cgroups are gone with them; their parent is this test's own
      // (cgroup v1: one per hierarchy; v2: one below the root)
      Path cgroups = Path.of("/sys/fs/cgroup");
      Files.deleteIfExists(cgroups.resolve("sbxp"));
      try (Stream<Path> hierarchies = Files.list(cgroups)) {
        for (Path hierarchy : hierarchies.filter(Files::isDirectory).toList()) {
          Files.deleteIfExists(hierarchy.resolve("sbxp"));
        }
      }
      if (work != null) {
        try (Stream<Path> tree = Files.walk(work)) {
          for (Path p : tree.sorted(Comparator.reverseOrder()).toList()) {
            Files.deleteIfExists(p);
          }
        }
      }
    }
  }

  @Test
  void javaSdkDrivesTheServer() throws Exception {
    SingleNodeServer running = server;
    assertThat(running).isNotNull();
    ConnectionConfig connection =
        ConnectionConfig.builder()
            .environment(Map.of())
            .apiKey(apiKey)
            .apiUrl(running.apiUrl())
            .sandboxUrl(running.proxyUrl())
            .domain(DOMAIN)
            .build();
    String run = "java-" + ProcessHandle.current().pid();
    String id;
    try (Sandbox sandbox =
        Sandbox.create(
            SandboxOptions.builder()
                .connection(connection)
                .template("base")
                .timeout(Duration.ofMinutes(2))
                .metadata("run", run)
                .env("GREETING", "hello")
                .build())) {
      id = sandbox.sandboxId();
      assertThat(sandbox.commands().run("python3 -c 'print(1+1)'").stdout()).isEqualTo("2\n");
      assertThat(sandbox.commands().run("echo $GREETING $(whoami)").stdout())
          .isEqualTo("hello user\n");
      sandbox.files().write("/home/user/java.txt", "from java");
      assertThat(sandbox.files().read("/home/user/java.txt")).isEqualTo("from java");
      assertThat(sandbox.isRunning()).isTrue();

      // pause and resume in place (nothing of the user's runs: see pause.test.mjs on CRIU)
      assertThat(sandbox.pause()).isTrue();
      assertThat(sandbox.isRunning()).isFalse();
      assertThat(sandbox.getInfo().state()).isEqualTo(SandboxState.PAUSED);
      assertThat(sandbox.pause()).isFalse();
      sandbox.connect(Duration.ofMinutes(2));
      assertThat(sandbox.isRunning()).isTrue();
      assertThat(sandbox.files().read("/home/user/java.txt")).isEqualTo("from java");

      SandboxInfo info = sandbox.getInfo();
      assertThat(info.sandboxId()).isEqualTo(id);
      assertThat(info.state()).isEqualTo(SandboxState.RUNNING);
      assertThat(info.metadata()).containsEntry("run", run);
      assertThat(
              Sandbox.list(SandboxQuery.builder().metadata("run", run).build(), connection)
                  .nextItems())
          .extracting(SandboxInfo::sandboxId)
          .containsExactly(id);
    }
    // close() killed it
    assertThat(Sandbox.kill(id, connection)).isFalse();
  }

  @ParameterizedTest(name = "e2b SDK {0} against sbx up")
  @ValueSource(strings = {"e2b-2.45", "e2b-2.51"})
  void officialSdkSuitePasses(String sdkPackage) throws Exception {
    SingleNodeServer running = server;
    assertThat(running).isNotNull();
    List<String> command =
        new ArrayList<>(List.of("node", "--test", "--test-concurrency=1", "--test-reporter=spec"));
    try (Stream<Path> files = Files.list(JS.directory().resolve("platform"))) {
      files
          .map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".test.mjs"))
          .filter(n -> ONLY.isEmpty() || n.equals(ONLY + ".test.mjs"))
          .sorted()
          .forEach(n -> command.add("platform/" + n));
    }
    Map<String, String> env = new HashMap<>();
    env.put("SBX_E2B_PACKAGE", sdkPackage);
    env.put("E2B_API_URL", running.apiUrl());
    env.put("E2B_SANDBOX_URL", running.proxyUrl());
    env.put("SBX_PROXY_URL", running.proxyUrl());
    env.put("E2B_DOMAIN", DOMAIN);
    env.put("E2B_API_KEY", apiKey);
    env.put("SBX_LIMITED_API_KEY", limitedKey);
    env.put("SBX_LIMITED_CONCURRENCY", String.valueOf(LIMITED_CONCURRENCY));
    env.put("SBX_TEMPLATE", "base");
    int exit = JS.run(command, env, SUITE_TIMEOUT, sdkPackage);
    assertThat(exit).as("node --test exit status (the spec output is above)").isZero();
    assertThat(running.orchestrator().lifecycle().list())
        .as("every sandbox the suite made is gone")
        .isEmpty();
  }
}
