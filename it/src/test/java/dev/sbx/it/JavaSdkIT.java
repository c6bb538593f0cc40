package dev.sbx.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sbx.api.store.Team;
import dev.sbx.api.store.TeamLimits;
import dev.sbx.cli.server.SingleNodeServer;
import dev.sbx.orchestrator.LeakInventory;
import dev.sbx.orchestrator.OrchestratorConfig;
import dev.sbx.orchestrator.lifecycle.LifecycleSettings;
import dev.sbx.orchestrator.network.Ipv4Cidr;
import dev.sbx.orchestrator.network.NetworkConfig;
import dev.sbx.orchestrator.rootfs.DirectoryTree;
import dev.sbx.orchestrator.runtime.RuncSettings;
import dev.sbx.sdk.AuthenticationException;
import dev.sbx.sdk.ConnectionConfig;
import dev.sbx.sdk.InvalidArgumentException;
import dev.sbx.sdk.NotFoundException;
import dev.sbx.sdk.RateLimitException;
import dev.sbx.sdk.Sandbox;
import dev.sbx.sdk.SandboxInfo;
import dev.sbx.sdk.SandboxMetrics;
import dev.sbx.sdk.SandboxOptions;
import dev.sbx.sdk.SandboxPaginator;
import dev.sbx.sdk.SandboxQuery;
import dev.sbx.sdk.SandboxState;
import dev.sbx.sdk.TimeoutException;
import dev.sbx.sdk.commands.CommandExitException;
import dev.sbx.sdk.commands.CommandHandle;
import dev.sbx.sdk.commands.CommandOptions;
import dev.sbx.sdk.commands.CommandResult;
import dev.sbx.sdk.commands.ProcessInfo;
import dev.sbx.sdk.files.EntryInfo;
import dev.sbx.sdk.files.FileType;
import dev.sbx.sdk.files.FilesystemEvent;
import dev.sbx.sdk.files.FilesystemEventType;
import dev.sbx.sdk.files.WatchHandle;
import dev.sbx.sdk.files.WatchOptions;
import dev.sbx.sdk.files.WriteEntry;
import dev.sbx.sdk.files.WriteInfo;
import dev.sbx.sdk.pty.PtyOptions;
import dev.sbx.sdk.pty.PtySize;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The Java SDK ({@code sdk/}) against a real single-node server (API on SQLite, client proxy,
 * orchestrator on runc, in this JVM, what {@code sbx up} runs), every feature of issue 6's SDK
 * surface: the sandbox lifecycle and listing, commands, PTYs, files, the typed exceptions, the
 * {@code E2B_*} environment variables and {@code AutoCloseable}.
 *
 * <p>Root only (runc, network namespaces). Its own layout: containers {@code sbxd-…}, cgroups
 * {@code /sbxd}, bridge {@code sbxd0}, addresses 10.239.0.0/24, all removed when the server stops
 * (also when a test or the start failed); afterwards the orchestrator's leak inventory must be
 * empty. Sandboxes start from the {@code base} template in {@code /var/lib/sbx/templates}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JavaSdkIT {
  private static final Path TEMPLATES = Path.of("/var/lib/sbx/templates");
  private static final String DOMAIN = "sbxd.test";
  private static final String PREFIX = "sbxd";

  private @Nullable Path work;
  private @Nullable OrchestratorConfig orchestratorConfig;
  private @Nullable SingleNodeServer server;
  private @Nullable ConnectionConfig connection;
  private @Nullable ConnectionConfig limitedConnection;
  private final List<String> created = Collections.synchronizedList(new ArrayList<>());
  private final String run = "java-sdk-it-" + ProcessHandle.current().pid();

  /** The sandbox the command, PTY and file tests share. */
  private @Nullable Sandbox shared;

  @BeforeAll
  void start() throws Exception {
    assertThat(System.getProperty("user.name")).as("runs as root (runc, netns)").isEqualTo("root");
    assertThat(TEMPLATES.resolve("base").resolve("template.json"))
        .as("the base template (./sbx template build-base) must exist")
        .exists();
    Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "java-sdk-");
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
                    PREFIX + "-",
                    PREFIX),
                new NetworkConfig(PREFIX, PREFIX + "0", Ipv4Cidr.parse("10.239.0.0/24"), 2),
                LifecycleSettings.of(envdDist.toAbsolutePath().normalize()).withMaxSandboxes(20))
            .withNodeProxy("127.0.0.1", 0);
    orchestratorConfig = orchestrator;
    try {
      SingleNodeServer running =
          SingleNodeServer.start(
              new SingleNodeServer.Settings(
                  "127.0.0.1", 0, 0, 0, dir.resolve("data"), null, DOMAIN, null, orchestrator));
      server = running;
      // under load the first node check can miss its deadline; a create before the next is a 404
      await()
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(100))
          .until(
              () -> {
                running.api().checkNodes();
                return running.api().store().template("base").isPresent();
              });
      String apiKey = running.firstApiKey().orElseThrow();
      connection = connection(apiKey);
      Team limited =
          running.api().store().createTeam("limited", new TeamLimits(1, 1, 8, 8192, 50, 100));
      limitedConnection =
          connection(running.api().store().createApiKey(limited.id(), "java-sdk-it").secret());
      shared = create(SandboxOptions.builder().timeout(Duration.ofMinutes(10)));
    } catch (Exception | Error e) {
      stop();
      throw e;
    }
  }

  private ConnectionConfig connection(String apiKey) {
    SingleNodeServer running = running();
    return ConnectionConfig.builder()
        .environment(Map.of())
        .apiKey(apiKey)
        .apiUrl(running.apiUrl())
        .sandboxUrl(running.proxyUrl())
        .domain(DOMAIN)
        .build();
  }

  @AfterAll
  void stop() throws IOException {
    List<String> leaks = List.of();
    List<String> left = List.of();
    List<String> cgroups = List.of();
    try {
      SingleNodeServer running = server;
      ConnectionConfig config = connection;
      if (running != null && config != null) {
        // every sandbox this class made is gone once the shared one and any left over are killed
        try {
          for (String id : List.copyOf(created)) {
            Sandbox.kill(id, config);
          }
          left = running.orchestrator().lifecycle().list().stream().map(Object::toString).toList();
        } finally {
          if (shared != null) {
            shared.disconnect();
          }
        }
      }
    } finally {
      try {
        if (server != null) {
          server.close();
          server = null;
        }
        if (orchestratorConfig != null) {
          leaks = LeakInventory.find(orchestratorConfig, null);
        }
      } finally {
        // the sandboxes' cgroups are gone with them; their parent is this test's own
        cgroups = removeCgroups();
        if (work != null) {
          DirectoryTree.delete(work);
          work = null;
        }
      }
    }
    assertThat(left).as("sandboxes left after killing those the tests made").isEmpty();
    assertThat(leaks).as("left on the host after the server stopped").isEmpty();
    assertThat(cgroups).as("cgroups of this test that could not be removed").isEmpty();
  }

  /**
   * Removes this test's parent cgroup {@code /sbxd} (cgroup v1: one per hierarchy; v2: one below
   * the root) and any empty sandbox cgroup left below it, e.g. by an earlier run that was killed.
   * Returns what could not be removed (a cgroup that still holds processes).
   */
  private static List<String> removeCgroups() throws IOException {
    List<String> failed = new ArrayList<>();
    List<Path> parents = new ArrayList<>();
    Path root = Path.of("/sys/fs/cgroup");
    parents.add(root.resolve(PREFIX));
    try (Stream<Path> hierarchies = Files.list(root)) {
      hierarchies.filter(Files::isDirectory).forEach(h -> parents.add(h.resolve(PREFIX)));
    }
    for (Path parent : parents) {
      if (!Files.isDirectory(parent)) {
        continue;
      }
      List<Path> children;
      try (Stream<Path> below = Files.list(parent)) {
        children =
            below
                .filter(Files::isDirectory)
                .filter(p -> p.getFileName().toString().startsWith(PREFIX + "-"))
                .toList();
      }
      for (Path cgroup : children) {
        removeCgroup(cgroup, failed);
      }
      removeCgroup(parent, failed);
    }
    return failed;
  }

  private static void removeCgroup(Path cgroup, List<String> failed) {
    try {
      Files.deleteIfExists(cgroup);
    } catch (IOException e) {
      failed.add(cgroup + ": " + e.getMessage());
    }
  }

  private SingleNodeServer running() {
    SingleNodeServer running = server;
    assertThat(running).as("the server is running").isNotNull();
    return running;
  }

  private ConnectionConfig connection() {
    ConnectionConfig config = connection;
    assertThat(config).isNotNull();
    return config;
  }

  private Sandbox sandbox() {
    Sandbox sandbox = shared;
    assertThat(sandbox).isNotNull();
    return sandbox;
  }

  /** Creates a sandbox from {@code base} with this run's metadata; remembered for the check. */
  private Sandbox create(SandboxOptions.Builder options) {
    Sandbox sandbox =
        Sandbox.create(
            options.connection(connection()).template("base").metadata("run", run).build());
    created.add(sandbox.sandboxId());
    return sandbox;
  }

  private static String unique(String prefix) {
    return prefix + "-" + Long.toHexString(new Random().nextLong() & Long.MAX_VALUE);
  }

  // ---- the lifecycle

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class Lifecycle {
    @Test
    void createGetInfoConnectSetTimeoutKill() {
      String group = unique("life");
      Instant before = Instant.now().minusSeconds(5);
      Sandbox sandbox =
          create(
              SandboxOptions.builder()
                  .timeout(Duration.ofMinutes(3))
                  .metadata("group", group)
                  .env("SBX_GREETING", "hello"));
      String id = sandbox.sandboxId();
      assertThat(id).matches("[a-z0-9]+");
      assertThat(sandbox.envdAccessToken()).as("secure by default (API v2)").isNotBlank();

      SandboxInfo info = sandbox.getInfo();
      assertThat(info.sandboxId()).isEqualTo(id);
      assertThat(info.templateId()).isNotBlank();
      assertThat(info.state()).isEqualTo(SandboxState.RUNNING);
      assertThat(info.metadata()).containsEntry("run", run).containsEntry("group", group);
      assertThat(info.startedAt()).isAfter(before);
      assertThat(Duration.between(info.startedAt(), info.endAt()))
          .isBetween(Duration.ofMinutes(3).minusSeconds(5), Duration.ofMinutes(3).plusSeconds(5));
      assertThat(info.cpuCount()).isPositive();
      assertThat(info.memoryMb()).isGreaterThanOrEqualTo(128);
      assertThat(info.envdVersion()).isEqualTo(sandbox.envdVersion());
      assertThat(Sandbox.getInfo(id, connection())).isEqualTo(info);

      assertThat(sandbox.getHost(8080)).isEqualTo("8080-" + id + "." + DOMAIN);
      assertThat(sandbox.isRunning()).isTrue();
      assertThat(sandbox.commands().run("echo $SBX_GREETING; hostname").stdout())
          .isEqualTo("hello\n" + id + "\n");

      // setTimeout moves the end, also to an earlier time
      sandbox.setTimeout(Duration.ofMinutes(8));
      Instant later = sandbox.getInfo().endAt();
      assertThat(later).isAfter(info.endAt());
      sandbox.setTimeout(Duration.ofMinutes(1));
      assertThat(sandbox.getInfo().endAt()).isBefore(info.endAt());
      assertThatThrownBy(() -> sandbox.setTimeout(Duration.ofSeconds(-1)))
          .isInstanceOf(InvalidArgumentException.class);

      // connect: the same sandbox, its files kept, the timeout only extended
      sandbox.files().write("/home/user/kept.txt", "kept");
      Sandbox again = Sandbox.connect(id, connection(), Duration.ofMinutes(4));
      assertThat(again.sandboxId()).isEqualTo(id);
      assertThat(again.files().read("/home/user/kept.txt")).isEqualTo("kept");
      assertThat(again.getInfo().endAt()).isAfter(info.endAt());
      again.disconnect();

      assertThat(sandbox.kill()).isTrue();
      assertThat(sandbox.kill()).isFalse();
      assertThat(Sandbox.kill(id, connection())).isFalse();
      assertThat(sandbox.isRunning()).isFalse();
      assertThatThrownBy(sandbox::getInfo).isInstanceOf(NotFoundException.class);
      assertThatThrownBy(() -> Sandbox.connect(id, connection()))
          .isInstanceOf(NotFoundException.class);
      sandbox.disconnect();
    }

    @Test
    void listFiltersByMetadataAndPages() {
      String group = unique("list");
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        ids.add(create(SandboxOptions.builder().metadata("group", group)).sandboxId());
      }
      try {
        SandboxPaginator pages =
            Sandbox.list(
                SandboxQuery.builder()
                    .metadata("group", group)
                    .states(SandboxState.RUNNING)
                    .limit(2)
                    .build(),
                connection());
        assertThat(pages.hasNext()).isTrue();
        List<SandboxInfo> first = pages.nextItems();
        assertThat(first).hasSize(2);
        assertThat(pages.hasNext()).isTrue();
        assertThat(pages.nextToken()).isNotBlank();
        List<SandboxInfo> second = pages.nextItems();
        assertThat(second).hasSize(1);
        assertThat(pages.hasNext()).isFalse();
        List<String> listed = new ArrayList<>();
        first.forEach(s -> listed.add(s.sandboxId()));
        second.forEach(s -> listed.add(s.sandboxId()));
        assertThat(listed).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(first.getFirst().metadata()).containsEntry("group", group);
        assertThat(first.getFirst().state()).isEqualTo(SandboxState.RUNNING);

        // another filter value finds nothing; paused only finds nothing either
        assertThat(
                Sandbox.list(
                        SandboxQuery.builder().metadata("group", group + "x").build(), connection())
                    .nextItems())
            .isEmpty();
        assertThat(
                Sandbox.list(
                        SandboxQuery.builder()
                            .metadata("group", group)
                            .states(SandboxState.PAUSED)
                            .build(),
                        connection())
                    .nextItems())
            .isEmpty();
        // all of this run's sandboxes, the shared one included
        assertThat(
                Sandbox.list(SandboxQuery.builder().metadata("run", run).build(), connection())
                    .nextItems())
            .extracting(SandboxInfo::sandboxId)
            .contains(sandbox().sandboxId())
            .containsAll(ids);
      } finally {
        ids.forEach(id -> Sandbox.kill(id, connection()));
      }
      assertThat(
              Sandbox.list(SandboxQuery.builder().metadata("group", group).build(), connection())
                  .nextItems())
          .isEmpty();
    }

    @Test
    void metricsArrive() {
      List<SandboxMetrics> metrics =
          await()
              .atMost(Duration.ofSeconds(30))
              .pollInterval(Duration.ofMillis(500))
              .until(() -> sandbox().getMetrics(), m -> !m.isEmpty());
      SandboxMetrics last = metrics.getLast();
      assertThat(last.memTotal()).isPositive();
      assertThat(last.memUsed()).isPositive().isLessThanOrEqualTo(last.memTotal());
      assertThat(last.diskTotal()).isPositive();
      assertThat(last.cpuCount()).isPositive();
      assertThat(last.cpuUsedPct()).isGreaterThanOrEqualTo(0);
      assertThat(sandbox().getMetrics(last.timestamp().minusSeconds(60), Instant.now()))
          .isNotEmpty();
    }

    @Test
    void aShortTimeoutEndsTheSandbox() {
      Sandbox sandbox = create(SandboxOptions.builder().timeout(Duration.ofSeconds(2)));
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(250))
          .untilAsserted(
              () -> assertThatThrownBy(sandbox::getInfo).isInstanceOf(NotFoundException.class));
      assertThat(sandbox.isRunning()).isFalse();
      sandbox.disconnect();
    }

    @Test
    void closeKillsTheSandbox() {
      String id;
      try (Sandbox sandbox = create(SandboxOptions.builder())) {
        id = sandbox.sandboxId();
        assertThat(sandbox.isRunning()).isTrue();
      }
      assertThat(Sandbox.kill(id, connection())).isFalse();
      assertThatThrownBy(() -> Sandbox.getInfo(id, connection()))
          .isInstanceOf(NotFoundException.class);
    }

    @Test
    void environmentVariablesConfigureTheSdk() {
      SingleNodeServer running = running();
      String key = connection().apiKey();
      assertThat(key).isNotNull();
      // exactly what `sbx up` prints to export
      Map<String, String> env =
          Map.of(
              "E2B_API_KEY",
              key,
              "E2B_API_URL",
              running.apiUrl(),
              "E2B_SANDBOX_URL",
              running.proxyUrl(),
              "E2B_DOMAIN",
              DOMAIN);
      ConnectionConfig fromEnv = ConnectionConfig.builder().environment(env).build();
      assertThat(fromEnv.apiKey()).isEqualTo(key);
      assertThat(fromEnv.apiUrl()).isEqualTo(running.apiUrl());
      assertThat(fromEnv.sandboxUrl()).isEqualTo(running.proxyUrl());
      assertThat(fromEnv.domain()).isEqualTo(DOMAIN);
      try (Sandbox sandbox =
          Sandbox.create(SandboxOptions.builder().environment(env).metadata("run", run).build())) {
        created.add(sandbox.sandboxId());
        assertThat(sandbox.commands().run("echo from env").stdout()).isEqualTo("from env\n");
        assertThat(sandbox.getHost(3000)).isEqualTo("3000-" + sandbox.sandboxId() + "." + DOMAIN);
      }
      // a builder value wins over the environment: a wrong key from the environment is replaced
      Map<String, String> wrongKey = new java.util.HashMap<>(env);
      wrongKey.put("E2B_API_KEY", "e2b_" + "0".repeat(40));
      assertThatThrownBy(
              () ->
                  Sandbox.list(
                          SandboxQuery.all(),
                          ConnectionConfig.builder().environment(wrongKey).build())
                      .nextItems())
          .isInstanceOf(AuthenticationException.class);
      assertThat(
              Sandbox.list(
                      SandboxQuery.builder().metadata("run", run).build(),
                      ConnectionConfig.builder().environment(wrongKey).apiKey(key).build())
                  .nextItems())
          .isNotEmpty();
    }
  }

  /** An HTTP answer read off a plain socket. */
  record RawResponse(int status, String body) {}

  /**
   * A {@code GET} through the client proxy with the given {@code Host} (Host routing, as a browser
   * reaching {@code getHost(port)} would send it). A plain socket: {@code java.net.http} does not
   * let a caller set {@code Host}.
   */
  private RawResponse rawGet(String host, String path) throws IOException {
    URI proxy = URI.create(running().proxyUrl());
    try (java.net.Socket socket = new java.net.Socket(proxy.getHost(), proxy.getPort())) {
      socket.setSoTimeout(30_000);
      socket
          .getOutputStream()
          .write(
              ("GET "
                      + path
                      + " HTTP/1.1\r\nHost: "
                      + host
                      + "\r\nAccept: application/json\r\nConnection: close\r\n\r\n")
                  .getBytes(UTF_8));
      String answer = new String(socket.getInputStream().readAllBytes(), UTF_8);
      int headEnd = answer.indexOf("\r\n\r\n");
      assertThat(headEnd).as("an HTTP answer: " + answer).isPositive();
      String head = answer.substring(0, headEnd);
      String body = answer.substring(headEnd + 4);
      if (head.toLowerCase(java.util.Locale.ROOT).contains("transfer-encoding: chunked")) {
        StringBuilder joined = new StringBuilder();
        int at = 0;
        while (true) {
          int lineEnd = body.indexOf("\r\n", at);
          int size = Integer.parseInt(body.substring(at, lineEnd).strip(), 16);
          if (size == 0) {
            break;
          }
          joined.append(body, lineEnd + 2, lineEnd + 2 + size);
          at = lineEnd + 2 + size + 2;
        }
        body = joined.toString();
      }
      return new RawResponse(Integer.parseInt(head.split(" ", 3)[1]), body);
    }
  }

  // ---- a user's server in the sandbox, reached at getHost(port) through the client proxy

  @Test
  void aServerInTheSandboxIsReachedAtItsHost() throws Exception {
    String www = "/home/user/" + unique("www");
    sandbox().files().write(www + "/hello.txt", "hello from the sandbox");
    CommandHandle server =
        sandbox().commands().start("python3 -m http.server 8000 --directory " + www);
    try {
      String host = sandbox().getHost(8000);
      assertThat(host).isEqualTo("8000-" + sandbox().sandboxId() + "." + DOMAIN);
      RawResponse hello =
          await()
              .atMost(Duration.ofSeconds(30))
              .pollInterval(Duration.ofMillis(200))
              .ignoreExceptions()
              .until(() -> rawGet(host, "/hello.txt"), r -> r.status() == 200);
      assertThat(hello.body()).isEqualTo("hello from the sandbox");
      // the same server through E2B's routing headers, which java.net.http can send
      try (HttpClient http = HttpClient.newHttpClient()) {
        HttpResponse<String> byHeaders =
            http.send(
                HttpRequest.newBuilder(URI.create(running().proxyUrl() + "/hello.txt"))
                    .header("E2b-Sandbox-Id", sandbox().sandboxId())
                    .header("E2b-Sandbox-Port", "8000")
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(byHeaders.statusCode()).isEqualTo(200);
        assertThat(byHeaders.body()).isEqualTo("hello from the sandbox");
      }

      // a port nobody listens on: E2B's 502 JSON naming the port
      RawResponse closed = rawGet(sandbox().getHost(9), "/");
      assertThat(closed.status()).isEqualTo(502);
      assertThat(closed.body()).contains("\"port\":9").contains(sandbox().sandboxId());
      // an unknown sandbox
      assertThat(rawGet("8000-nosuchsandbox0." + DOMAIN, "/").status()).isEqualTo(502);
    } finally {
      server.kill();
    }
  }

  // ---- the README's example, compiled from sdk/README.md and run with the E2B_* variables

  @Test
  void theReadmeExampleRunsAgainstTheServer() throws Exception {
    Path readme = Path.of(System.getProperty("sbx.repo.root", "..")).resolve("sdk/README.md");
    String text = Files.readString(readme);
    int start = text.indexOf("```java\nimport dev.sbx.sdk.*;");
    assertThat(start).as("the example in " + readme).isNotNegative();
    int end = text.indexOf("\n```\n", start);
    String source = text.substring(start + "```java\n".length(), end + 1);
    assertThat(source).contains("public class Example");
    Path dir = Files.createDirectories(work().resolve("readme"));
    Files.writeString(dir.resolve("Example.java"), source);
    String classPath = System.getProperty("java.class.path");
    javax.tools.JavaCompiler javac = javax.tools.ToolProvider.getSystemJavaCompiler();
    ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
    int compiled =
        javac.run(
            null,
            diagnostics,
            diagnostics,
            "-proc:none",
            "-cp",
            classPath,
            "-d",
            dir.toString(),
            dir.resolve("Example.java").toString());
    assertThat(compiled).as(diagnostics.toString(UTF_8)).isZero();

    String key = connection().apiKey();
    assertThat(key).isNotNull();
    ProcessBuilder child =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                dir + File.pathSeparator + classPath,
                "Example")
            .redirectErrorStream(true);
    child.environment().put("E2B_API_KEY", key);
    child.environment().put("E2B_API_URL", running().apiUrl());
    child.environment().put("E2B_SANDBOX_URL", running().proxyUrl());
    child.environment().put("E2B_DOMAIN", DOMAIN);
    child.environment().remove("E2B_DEBUG");
    Process process = child.start();
    process.getOutputStream().close();
    byte[] output;
    try (InputStream in = process.getInputStream()) {
      output = in.readAllBytes();
    }
    boolean ended = process.waitFor(3, TimeUnit.MINUTES);
    if (!ended) {
      process.destroyForcibly();
    }
    String printed = new String(output, UTF_8);
    System.out.println("[readme example] " + printed.replace("\n", "\n[readme example] "));
    assertThat(ended).isTrue();
    assertThat(process.exitValue()).as(printed).isZero();
    assertThat(printed)
        .contains("exit 0: 2\n")
        .contains("exited 3")
        .contains("hello\n")
        .contains("some notes")
        .contains("FILE /home/user/dir/b.txt")
        .contains("from the pty")
        .contains("reachable at 8080-");
    // the example's sandbox was killed by close(); its listing found none running
    assertThat(
            Sandbox.list(SandboxQuery.builder().metadata("owner", "me").build(), connection())
                .nextItems())
        .isEmpty();
  }

  private Path work() {
    Path dir = work;
    assertThat(dir).isNotNull();
    return dir;
  }

  // ---- typed exceptions

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class Errors {
    @Test
    void aWrongOrMissingKeyIsAnAuthenticationError() {
      ConnectionConfig wrong =
          ConnectionConfig.builder()
              .environment(Map.of())
              .apiKey("e2b_" + "0".repeat(40))
              .apiUrl(running().apiUrl())
              .sandboxUrl(running().proxyUrl())
              .domain(DOMAIN)
              .build();
      assertThatThrownBy(() -> Sandbox.create(SandboxOptions.builder().connection(wrong).build()))
          .isInstanceOf(AuthenticationException.class);
      assertThatThrownBy(() -> Sandbox.list(SandboxQuery.all(), wrong).nextItems())
          .isInstanceOf(AuthenticationException.class);
      assertThatThrownBy(() -> Sandbox.connect(sandbox().sandboxId(), wrong))
          .isInstanceOf(AuthenticationException.class);
      ConnectionConfig none =
          ConnectionConfig.builder()
              .environment(Map.of())
              .apiUrl(running().apiUrl())
              .sandboxUrl(running().proxyUrl())
              .build();
      assertThatThrownBy(() -> Sandbox.create(SandboxOptions.builder().connection(none).build()))
          .isInstanceOf(AuthenticationException.class);
    }

    @Test
    void unknownSandboxesAreNotFound() {
      assertThatThrownBy(() -> Sandbox.connect("nosuchsandbox0", connection()))
          .isInstanceOf(NotFoundException.class);
      assertThatThrownBy(() -> Sandbox.getInfo("nosuchsandbox0", connection()))
          .isInstanceOf(NotFoundException.class);
      assertThatThrownBy(
              () -> Sandbox.setTimeout("nosuchsandbox0", Duration.ofMinutes(1), connection()))
          .isInstanceOf(NotFoundException.class);
      assertThat(Sandbox.kill("nosuchsandbox0", connection())).isFalse();
    }

    @Test
    void anUnknownTemplateIsNotFound() {
      assertThatThrownBy(
              () ->
                  Sandbox.create(
                      SandboxOptions.builder()
                          .connection(connection())
                          .template(unique("no-such-template"))
                          .build()))
          .isInstanceOf(NotFoundException.class)
          .hasMessageContaining("not found");
    }

    @Test
    void theTeamsSandboxLimitIsARateLimitError() {
      ConnectionConfig limited = limitedConnection;
      assertThat(limited).isNotNull();
      Sandbox first =
          Sandbox.create(SandboxOptions.builder().connection(limited).metadata("run", run).build());
      created.add(first.sandboxId());
      try {
        assertThatThrownBy(
                () -> Sandbox.create(SandboxOptions.builder().connection(limited).build()))
            .isInstanceOf(RateLimitException.class)
            .hasMessageContaining("1");
      } finally {
        assertThat(first.kill()).isTrue();
        first.disconnect();
      }
      // the slot is free again
      try (Sandbox second =
          Sandbox.create(
              SandboxOptions.builder().connection(limited).metadata("run", run).build())) {
        created.add(second.sandboxId());
        assertThat(second.isRunning()).isTrue();
      }
    }
  }

  // ---- commands

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class Commands {
    @Test
    void runStreamsStdoutAndStderr() {
      List<String> out = new CopyOnWriteArrayList<>();
      List<String> err = new CopyOnWriteArrayList<>();
      CommandResult result =
          sandbox()
              .commands()
              .run(
                  "for i in 1 2 3; do echo out$i; echo err$i >&2; sleep 0.05; done",
                  CommandOptions.builder().onStdout(out::add).onStderr(err::add).build());
      assertThat(result.exitCode()).isZero();
      assertThat(result.stdout()).isEqualTo("out1\nout2\nout3\n");
      assertThat(result.stderr()).isEqualTo("err1\nerr2\nerr3\n");
      assertThat(String.join("", out)).isEqualTo(result.stdout());
      assertThat(String.join("", err)).isEqualTo(result.stderr());
      assertThat(out).as("streamed in several chunks").hasSizeGreaterThan(1);
    }

    @Test
    void envsCwdAndUser() {
      assertThat(
              sandbox()
                  .commands()
                  .run(
                      "echo $FOO; pwd; whoami",
                      CommandOptions.builder().env("FOO", "bar").cwd("/tmp").build())
                  .stdout())
          .isEqualTo("bar\n/tmp\nuser\n");
      assertThat(
              sandbox()
                  .commands()
                  .run("whoami; echo $HOME", CommandOptions.builder().user("root").build())
                  .stdout())
          .isEqualTo("root\n/root\n");
      assertThat(sandbox().commands().run("pwd").stdout()).isEqualTo("/home/user\n");
    }

    @Test
    void aNonZeroExitThrowsWithTheOutput() {
      CommandExitException e =
          (CommandExitException)
              org.assertj.core.api.Assertions.catchThrowable(
                  () -> sandbox().commands().run("echo partial; echo bad >&2; exit 3"));
      assertThat(e).isNotNull();
      assertThat(e.exitCode()).isEqualTo(3);
      assertThat(e.stdout()).isEqualTo("partial\n");
      assertThat(e.stderr()).isEqualTo("bad\n");
      assertThat(e.result().exitCode()).isEqualTo(3);
    }

    @Test
    void backgroundHandlesAreListedWaitedForAndKilled() {
      CommandHandle sleeper = sandbox().commands().start("sleep 300 # sbx-bg-list");
      try {
        List<ProcessInfo> processes = sandbox().commands().list();
        assertThat(processes)
            .filteredOn(p -> p.pid() == sleeper.pid())
            .singleElement()
            .satisfies(
                p -> {
                  assertThat(p.cmd()).isEqualTo("/bin/bash");
                  assertThat(String.join(" ", p.args())).contains("sleep 300 # sbx-bg-list");
                });
        assertThat(sleeper.exitCode()).isNull();
        assertThat(sandbox().commands().kill(sleeper.pid())).isTrue();
        assertThatThrownBy(sleeper::waitFor).isInstanceOf(CommandExitException.class);
        assertThat(sleeper.exitCode()).isNotNull().isNotZero();
        await()
            .atMost(Duration.ofSeconds(10))
            .until(
                () ->
                    sandbox().commands().list().stream().noneMatch(p -> p.pid() == sleeper.pid()));
        assertThat(sandbox().commands().kill(sleeper.pid())).isFalse();
      } finally {
        sleeper.kill();
      }

      // the handle's own kill, and a background command that succeeds
      CommandHandle other = sandbox().commands().start("sleep 300");
      assertThat(other.kill()).isTrue();
      assertThatThrownBy(other::waitFor).isInstanceOf(CommandExitException.class);
      assertThat(other.kill()).isFalse();
      CommandHandle quick = sandbox().commands().start("sleep 0.2; echo done");
      CommandResult result = quick.waitFor();
      assertThat(result.stdout()).isEqualTo("done\n");
      assertThat(quick.exitCode()).isZero();
    }

    @Test
    void aDisconnectedCommandIsReattached() {
      List<String> early = new CopyOnWriteArrayList<>();
      CommandHandle handle =
          sandbox()
              .commands()
              .start(
                  "for i in $(seq 1 15); do echo line$i; sleep 0.2; done; exit 4",
                  CommandOptions.builder().onStdout(early::add).build());
      await().atMost(Duration.ofSeconds(10)).until(() -> handle.stdout().contains("line1\n"));
      handle.disconnect();
      assertThatThrownBy(handle::waitFor).isNotInstanceOf(CommandExitException.class);

      List<String> later = new CopyOnWriteArrayList<>();
      CommandHandle again =
          sandbox()
              .commands()
              .connect(handle.pid(), CommandOptions.builder().onStdout(later::add).build());
      assertThat(again.pid()).isEqualTo(handle.pid());
      CommandExitException e =
          (CommandExitException) org.assertj.core.api.Assertions.catchThrowable(again::waitFor);
      assertThat(e).isNotNull();
      assertThat(e.exitCode()).isEqualTo(4);
      assertThat(e.stdout()).endsWith("line15\n").doesNotContain("line1\n");
      assertThat(String.join("", later)).isEqualTo(e.stdout());
      // envd keeps an ended process for a while: a late connect still sees how it ended
      CommandExitException late =
          (CommandExitException)
              org.assertj.core.api.Assertions.catchThrowable(
                  () -> sandbox().commands().connect(handle.pid()).waitFor());
      assertThat(late).isNotNull();
      assertThat(late.exitCode()).isEqualTo(4);
      assertThatThrownBy(() -> sandbox().commands().connect(999_999))
          .isInstanceOf(NotFoundException.class);
    }

    @Test
    void stdinIsSentAndClosed() {
      CommandHandle cat =
          sandbox().commands().start("cat", CommandOptions.builder().stdin(true).build());
      cat.sendStdin("hello ");
      sandbox().commands().sendStdin(cat.pid(), "world\n".getBytes(UTF_8));
      await().atMost(Duration.ofSeconds(10)).until(() -> cat.stdout().equals("hello world\n"));
      sandbox().commands().closeStdin(cat.pid());
      assertThat(cat.waitFor().stdout()).isEqualTo("hello world\n");

      CommandHandle count =
          sandbox().commands().start("wc -c", CommandOptions.builder().stdin(true).build());
      count.sendStdin(new byte[1000]);
      sandbox().commands().closeStdin(count.pid());
      assertThat(count.waitFor().stdout().strip()).isEqualTo("1000");

      // without stdin(true), stdin is closed: cat ends at once
      assertThat(sandbox().commands().run("cat; echo eof").stdout()).isEqualTo("eof\n");
    }

    @Test
    void aCommandTimeoutThrowsAndEndsTheProcess() {
      AtomicInteger pid = new AtomicInteger();
      assertThatThrownBy(
              () -> {
                CommandHandle handle =
                    sandbox()
                        .commands()
                        .start(
                            "sleep 30 # sbx-timeout",
                            CommandOptions.builder().timeout(Duration.ofSeconds(1)).build());
                pid.set(handle.pid());
                handle.waitFor();
              })
          .isInstanceOf(TimeoutException.class);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> sandbox().commands().list().stream().noneMatch(p -> p.pid() == pid.get()));
      // timeout zero: no limit
      assertThat(
              sandbox()
                  .commands()
                  .run(
                      "sleep 1.2; echo ok", CommandOptions.builder().timeout(Duration.ZERO).build())
                  .stdout())
          .isEqualTo("ok\n");
    }

    @Test
    void aMissingCwdOrUserIsATypedError() {
      assertThatThrownBy(
              () ->
                  sandbox()
                      .commands()
                      .run("pwd", CommandOptions.builder().cwd("/no/such/dir").build()))
          .isInstanceOf(InvalidArgumentException.class);
      assertThatThrownBy(
              () ->
                  sandbox()
                      .commands()
                      .run("id", CommandOptions.builder().user("nosuchuser").build()))
          .isInstanceOf(AuthenticationException.class);
    }
  }

  // ---- PTY

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class Pty {
    @Test
    void aTerminalIsCreatedResizedAndKilled() {
      ByteArrayOutputStream output = new ByteArrayOutputStream();
      CommandHandle shell =
          sandbox()
              .pty()
              .create(
                  PtyOptions.builder(80, 24)
                      .onData(
                          bytes -> {
                            synchronized (output) {
                              output.writeBytes(bytes);
                            }
                          })
                      .timeout(Duration.ZERO)
                      .build());
      java.util.function.Supplier<String> text =
          () -> {
            synchronized (output) {
              return output.toString(UTF_8);
            }
          };
      sandbox().pty().sendInput(shell.pid(), "tty; echo TERM=$TERM; stty size\n");
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(text.get())
                      .containsPattern("/dev/pts/\\d+")
                      .contains("TERM=xterm-256color")
                      .contains("24 80"));
      sandbox().pty().resize(shell.pid(), new PtySize(120, 40));
      sandbox().pty().sendInput(shell.pid(), "stty size\n".getBytes(UTF_8));
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(() -> assertThat(text.get()).contains("40 120"));
      assertThat(sandbox().pty().kill(shell.pid())).isTrue();
      assertThatThrownBy(shell::waitFor).isInstanceOf(CommandExitException.class);
      assertThat(sandbox().pty().kill(shell.pid())).isFalse();
    }

    @Test
    void theShellsExitCodeEndsTheTerminal() {
      CommandHandle shell = sandbox().pty().create(PtyOptions.builder(80, 24).build());
      sandbox().pty().sendInput(shell.pid(), "exit 7\n");
      CommandExitException e =
          (CommandExitException) org.assertj.core.api.Assertions.catchThrowable(shell::waitFor);
      assertThat(e).isNotNull();
      assertThat(e.exitCode()).isEqualTo(7);
    }
  }

  // ---- files

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class Filesystem {
    private final String dir = "/home/user/" + unique("files");

    @Test
    void readAndWriteAsStringBytesAndStream() throws IOException {
      var files = sandbox().files();
      WriteInfo info = files.write(dir + "/text.txt", "grüße\n");
      assertThat(info.path()).isEqualTo(dir + "/text.txt");
      assertThat(info.name()).isEqualTo("text.txt");
      assertThat(files.read(dir + "/text.txt")).isEqualTo("grüße\n");
      assertThat(files.readBytes(dir + "/text.txt")).isEqualTo("grüße\n".getBytes(UTF_8));

      byte[] bytes = new byte[1 << 20];
      new Random(6).nextBytes(bytes);
      files.write(dir + "/bytes.bin", bytes);
      assertThat(files.readBytes(dir + "/bytes.bin")).isEqualTo(bytes);
      try (InputStream in = files.readStream(dir + "/bytes.bin")) {
        assertThat(in.readAllBytes()).isEqualTo(bytes);
      }
      files.write(dir + "/stream.bin", new ByteArrayInputStream(bytes));
      assertThat(files.readBytes(dir + "/stream.bin")).isEqualTo(bytes);
      assertThat(
              sandbox()
                  .commands()
                  .run("sha256sum " + dir + "/*.bin | cut -c1-64 | uniq | wc -l")
                  .stdout()
                  .strip())
          .isEqualTo("1");

      // relative paths resolve against the home folder; an empty file; an overwrite
      files.write("relative-" + dir.substring(11) + ".txt", "");
      assertThat(files.read("/home/user/relative-" + dir.substring(11) + ".txt")).isEmpty();
      files.write(dir + "/text.txt", "new");
      assertThat(files.read(dir + "/text.txt")).isEqualTo("new");
      files.remove("relative-" + dir.substring(11) + ".txt");

      // as root: owned by root
      files.write(dir + "/root.txt", "r", "root");
      assertThat(files.getInfo(dir + "/root.txt").owner()).isEqualTo("root");
      assertThat(files.getInfo(dir + "/text.txt").owner()).isEqualTo("user");
    }

    @Test
    void severalFilesAtOnce() {
      String many = dir + "/many";
      List<WriteInfo> written =
          sandbox()
              .files()
              .write(
                  List.of(
                      WriteEntry.of(many + "/a.txt", "A"),
                      WriteEntry.of(many + "/sub/b.txt", "B".getBytes(UTF_8)),
                      new WriteEntry(
                          many + "/c.txt", new ByteArrayInputStream("C".getBytes(UTF_8)))));
      assertThat(written)
          .extracting(WriteInfo::path)
          .containsExactly(many + "/a.txt", many + "/sub/b.txt", many + "/c.txt");
      assertThat(
              sandbox()
                  .commands()
                  .run("cat " + many + "/a.txt " + many + "/sub/b.txt " + many + "/c.txt")
                  .stdout())
          .isEqualTo("ABC");
    }

    @Test
    void listExistsGetInfoMakeDirRenameRemove() {
      var files = sandbox().files();
      String tree = dir + "/tree";
      assertThat(files.exists(tree)).isFalse();
      assertThat(files.makeDir(tree + "/a/b")).isTrue();
      assertThat(files.makeDir(tree + "/a/b")).isFalse();
      files.write(tree + "/top.txt", "12345");
      files.write(tree + "/a/inner.txt", "x");
      files.write(tree + "/a/b/deep.txt", "y");

      assertThat(files.list(tree))
          .extracting(EntryInfo::name)
          .containsExactlyInAnyOrder("a", "top.txt");
      assertThat(files.list(tree, 2))
          .extracting(EntryInfo::path)
          .containsExactlyInAnyOrder(
              tree + "/a", tree + "/top.txt", tree + "/a/b", tree + "/a/inner.txt");
      assertThat(files.list(tree, 3)).extracting(EntryInfo::path).contains(tree + "/a/b/deep.txt");

      EntryInfo top = files.getInfo(tree + "/top.txt");
      assertThat(top.type()).isEqualTo(FileType.FILE);
      assertThat(top.size()).isEqualTo(5);
      assertThat(top.name()).isEqualTo("top.txt");
      assertThat(top.owner()).isEqualTo("user");
      assertThat(top.permissions()).startsWith("-rw");
      assertThat(top.modifiedTime()).isAfter(Instant.now().minusSeconds(120));
      assertThat(files.getInfo(tree + "/a").type()).isEqualTo(FileType.DIR);
      assertThat(files.exists(tree + "/top.txt")).isTrue();

      EntryInfo moved = files.rename(tree + "/top.txt", tree + "/a/moved.txt");
      assertThat(moved.path()).isEqualTo(tree + "/a/moved.txt");
      assertThat(files.exists(tree + "/top.txt")).isFalse();
      assertThat(files.read(tree + "/a/moved.txt")).isEqualTo("12345");

      files.remove(tree + "/a");
      assertThat(files.exists(tree + "/a")).isFalse();
      assertThat(files.list(tree)).isEmpty();

      assertThatThrownBy(() -> files.read(tree + "/missing.txt"))
          .isInstanceOf(NotFoundException.class);
      assertThatThrownBy(() -> files.getInfo(tree + "/missing.txt"))
          .isInstanceOf(NotFoundException.class);
      assertThatThrownBy(() -> files.list(tree + "/missing")).isInstanceOf(NotFoundException.class);
      assertThatThrownBy(() -> files.rename(tree + "/missing", tree + "/x"))
          .isInstanceOf(NotFoundException.class);
    }

    @Test
    void watchDirReportsEvents() throws Exception {
      String watched = dir + "/watched";
      sandbox().files().makeDir(watched);
      List<FilesystemEvent> events = new CopyOnWriteArrayList<>();
      try (WatchHandle watch =
          sandbox()
              .files()
              .watchDir(
                  watched,
                  events::add,
                  WatchOptions.builder().recursive(true).includeEntry(true).build())) {
        sandbox().files().write(watched + "/new.txt", "1");
        sandbox().files().makeDir(watched + "/sub");
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> events.stream().anyMatch(e -> e.name().equals("sub")));
        sandbox().files().write(watched + "/sub/inner.txt", "2");
        sandbox().files().remove(watched + "/new.txt");
        await()
            .atMost(Duration.ofSeconds(10))
            .untilAsserted(
                () ->
                    assertThat(events)
                        .anyMatch(
                            e ->
                                e.type() == FilesystemEventType.CREATE
                                    && e.name().equals("new.txt"))
                        .anyMatch(
                            e ->
                                e.type() == FilesystemEventType.WRITE && e.name().equals("new.txt"))
                        .anyMatch(
                            e ->
                                e.type() == FilesystemEventType.CREATE
                                    && e.name().equals("sub/inner.txt"))
                        .anyMatch(
                            e ->
                                e.type() == FilesystemEventType.REMOVE
                                    && e.name().equals("new.txt")));
        FilesystemEvent created =
            events.stream()
                .filter(e -> e.type() == FilesystemEventType.CREATE && e.name().equals("new.txt"))
                .findFirst()
                .orElseThrow();
        assertThat(created.entry()).isNotNull();
        assertThat(created.entry().path()).isEqualTo(watched + "/new.txt");
        watch.stop();
        int seen = events.size();
        sandbox().files().write(watched + "/after.txt", "3");
        // a second watch sees the next event; the stopped one must not have
        List<FilesystemEvent> second = new CopyOnWriteArrayList<>();
        try (WatchHandle other = sandbox().files().watchDir(watched, second::add)) {
          sandbox().files().write(watched + "/later.txt", "4");
          await()
              .atMost(Duration.ofSeconds(10))
              .until(() -> second.stream().anyMatch(e -> e.name().equals("later.txt")));
        }
        assertThat(events).hasSize(seen);
      }
      assertThatThrownBy(() -> sandbox().files().watchDir(dir + "/no-such-dir", e -> {}))
          .isInstanceOf(NotFoundException.class);
    }

    @Test
    void signedUploadAndDownloadUrlsWorkWithAPlainHttpClient() throws Exception {
      String path = dir + "/signed/" + unique("u") + ".txt";
      String upload = sandbox().files().uploadUrl(path, null, null);
      assertThat(upload).startsWith(running().proxyUrl()).contains("signature=");
      String boundary = "sbx" + Long.toHexString(new Random().nextLong());
      byte[] body =
          ("--"
                  + boundary
                  + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.txt\"\r\n"
                  + "Content-Type: application/octet-stream\r\n\r\nsigned content\r\n--"
                  + boundary
                  + "--\r\n")
              .getBytes(UTF_8);
      try (HttpClient http = HttpClient.newHttpClient()) {
        HttpResponse<String> put =
            http.send(
                HttpRequest.newBuilder(URI.create(upload))
                    .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        assertThat(sandbox().files().read(path)).isEqualTo("signed content");

        String download = sandbox().files().downloadUrl(path, null, Duration.ofMinutes(5));
        assertThat(download).contains("signature=").contains("signature_expiration=");
        HttpResponse<String> get =
            http.send(
                HttpRequest.newBuilder(URI.create(download)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(get.statusCode()).isEqualTo(200);
        assertThat(get.body()).isEqualTo("signed content");

        // a forged signature: at the shared address no sandbox's token produced it, so the
        // client proxy cannot tell where it goes (400); at the sandbox's own host envd checks it
        String forgedUrl = download.replaceAll("signature=[^&]+", "signature=v1_forged");
        HttpResponse<String> forged =
            http.send(
                HttpRequest.newBuilder(URI.create(forgedUrl)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(forged.statusCode()).as(forged.body()).isEqualTo(400);
        URI forgedUri = URI.create(forgedUrl);
        RawResponse atHost =
            rawGet(
                sandbox().getHost(49983), forgedUri.getRawPath() + "?" + forgedUri.getRawQuery());
        assertThat(atHost.status()).as(atHost.body()).isEqualTo(401);
        // the same URL through Sandbox's shorthand
        assertThat(sandbox().downloadUrl(path, "root", null)).contains("username=root");
      }
    }
  }
}
