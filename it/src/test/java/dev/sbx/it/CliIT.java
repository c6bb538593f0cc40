package dev.sbx.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sbx.cli.server.SingleNodeServer;
import dev.sbx.orchestrator.OrchestratorConfig;
import dev.sbx.orchestrator.lifecycle.LifecycleSettings;
import dev.sbx.orchestrator.network.Ipv4Cidr;
import dev.sbx.orchestrator.network.NetworkConfig;
import dev.sbx.orchestrator.runtime.RuncSettings;
import dev.sbx.sdk.ConnectionConfig;
import dev.sbx.sdk.Sandbox;
import dev.sbx.sdk.SandboxOptions;
import dev.sbx.sdk.SandboxQuery;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The {@code sbx sandbox} commands as a user runs them: the CLI as a process of its own (from
 * {@code cli/target/classpath.txt}, with E2B's environment variables) against a real single-node
 * server in this JVM (what {@code sbx up} runs): create, list, info, exec (stdout, stderr, exit
 * code, stdin, live output), logs, kill, the failures a user meets (wrong key, unknown sandbox,
 * server down), and {@code shell} driven through tmux (a real terminal: raw mode, size, resize,
 * exit).
 *
 * <p>Root only (runc, network namespaces). Its own layout: containers {@code sbxc-…}, cgroups
 * {@code /sbxc}, bridge {@code sbxc0}, addresses 10.238.0.0/24, tmux server {@code sbxc-<pid>}; all
 * removed afterwards, also when a test fails.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CliIT {
  private static final Path TEMPLATES = Path.of("/var/lib/sbx/templates");
  private static final Path REPO =
      Path.of(System.getProperty("sbx.repo.root", "..")).toAbsolutePath();
  private static final String DOMAIN = "sbx.test";
  private static final Duration COMMAND_LIMIT = Duration.ofMinutes(2);

  private @Nullable Path work;
  private @Nullable SingleNodeServer server;
  private String apiKey = "";
  private @Nullable Path launcher;
  private final String tmuxSocket = "sbxc-" + ProcessHandle.current().pid();
  private final String run = "cli-" + ProcessHandle.current().pid();

  record Result(int exit, String out, String err) {}

  @BeforeAll
  void start() throws Exception {
    assertThat(System.getProperty("user.name")).as("runs as root (runc, netns)").isEqualTo("root");
    assertThat(TEMPLATES.resolve("base").resolve("template.json"))
        .as("the base template (./sbx template build-base) must exist")
        .exists();
    Path classpath = REPO.resolve("cli/target/classpath.txt");
    assertThat(classpath).as("the CLI is packaged (./mvnw -pl cli,it -am verify)").exists();
    Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "cli-");
    work = dir;
    Path envdDist = REPO.resolve("envd/target/envd-dist").normalize();
    OrchestratorConfig orchestrator =
        new OrchestratorConfig(
                InetAddress.getLoopbackAddress(),
                0,
                TEMPLATES,
                new RuncSettings(
                    Path.of("runc"),
                    dir.resolve("runc"),
                    dir.resolve("sandboxes"),
                    "sbxc-",
                    "sbxc"),
                new NetworkConfig("sbxc", "sbxc0", Ipv4Cidr.parse("10.238.0.0/24"), 2),
                LifecycleSettings.of(envdDist).withMaxSandboxes(10))
            .withNodeProxy("127.0.0.1", 0);
    SingleNodeServer started =
        SingleNodeServer.start(
            new SingleNodeServer.Settings(
                "127.0.0.1", 0, 0, 0, dir.resolve("data"), null, DOMAIN, null, orchestrator));
    server = started;
    apiKey = started.firstApiKey().orElseThrow();
    // ./sbx's way of running the CLI, with the exports `sbx up` prints
    Path script = dir.resolve("sbx");
    Files.writeString(
        script,
        "#!/bin/sh\n"
            + "export E2B_API_KEY='"
            + apiKey
            + "' E2B_API_URL='"
            + started.apiUrl()
            + "' E2B_SANDBOX_URL='"
            + started.proxyUrl()
            + "' E2B_DOMAIN='"
            + DOMAIN
            + "'\n"
            + "exec '"
            + Path.of(System.getProperty("java.home"), "bin", "java")
            + "' --enable-native-access=ALL-UNNAMED -cp '"
            + REPO.resolve("cli/target/classes")
            + ":'\"$(cat '"
            + classpath
            + "')\" dev.sbx.cli.Main \"$@\"\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    launcher = script;
    System.out.println("[it] sbx up: API " + started.apiUrl() + ", proxy " + started.proxyUrl());
  }

  @AfterAll
  void stop() throws Exception {
    try {
      tmux("kill-server");
    } catch (RuntimeException | IOException e) {
      // no tmux server left
    }
    try {
      if (server != null) {
        server.close();
      }
    } finally {
      Path cgroups = Path.of("/sys/fs/cgroup");
      Files.deleteIfExists(cgroups.resolve("sbxc"));
      try (Stream<Path> hierarchies = Files.list(cgroups)) {
        for (Path hierarchy : hierarchies.filter(Files::isDirectory).toList()) {
          Files.deleteIfExists(hierarchy.resolve("sbxc"));
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
  void sandboxCommandsDriveTheServer() throws Exception {
    Result created =
        sbx(
            null,
            "sandbox",
            "create",
            "base",
            "--timeout",
            "3m",
            "-m",
            "run=" + run,
            "-m",
            "step=create",
            "-e",
            "GREETING=hello",
            "--json");
    assertThat(created.exit()).as(created.err()).isZero();
    String id = new JsonObject(created.out().strip()).getString("sandboxID");
    assertThat(id).isNotBlank();
    try {
      // list: a table for people, JSON for scripts, filtered by metadata
      Result table = sbx(null, "sandbox", "list", "-m", "run=" + run);
      assertThat(table.exit()).as(table.err()).isZero();
      assertThat(table.out().lines().toList())
          .hasSize(2)
          .first()
          .asString()
          .startsWith("SANDBOX ID");
      assertThat(table.out().lines().toList().get(1))
          .startsWith(id)
          .contains("running")
          .contains("run=" + run + ",step=create");
      Result listed =
          sbx(null, "sandbox", "list", "--json", "-m", "run=" + run, "--state", "running");
      JsonArray array = new JsonArray(listed.out().strip());
      assertThat(array.size()).isEqualTo(1);
      assertThat(array.getJsonObject(0).getString("sandboxID")).isEqualTo(id);
      Result none = sbx(null, "sandbox", "list", "--json", "-m", "run=nothing-" + run);
      assertThat(new JsonArray(none.out().strip()).isEmpty()).isTrue();

      // info
      Result info = sbx(null, "sandbox", "info", "--json", id);
      assertThat(info.exit()).as(info.err()).isZero();
      JsonObject described = new JsonObject(info.out().strip());
      assertThat(described.getString("state")).isEqualTo("running");
      assertThat(described.getJsonObject("metadata").getString("run")).isEqualTo(run);
      assertThat(sbx(null, "sandbox", "info", id).out()).containsPattern("(?m)^state +running$");

      // exec: stdout and stderr apart, the command's exit code, env vars of the sandbox
      Result exec =
          sbx(
              null,
              "sandbox",
              "exec",
              id,
              "--",
              "sh",
              "-c",
              "echo out $GREETING $(whoami); echo err >&2; exit 7");
      assertThat(exec.exit()).isEqualTo(7);
      assertThat(exec.out()).isEqualTo("out hello user\n");
      assertThat(exec.err()).isEqualTo("err\n");
      // arguments arrive as they were given, no `--` needed
      Result quoted = sbx(null, "sandbox", "exec", id, "printf", "[%s]", "a  b", "$HOME", "it's");
      assertThat(quoted.exit()).as(quoted.err()).isZero();
      assertThat(quoted.out()).isEqualTo("[a  b][$HOME][it's]");
      // stdin from a pipe, to its end
      byte[] input = "hello world\nsecond line\n".repeat(1000).getBytes(StandardCharsets.UTF_8);
      Result counted = sbx(input, "sandbox", "exec", id, "--", "wc", "-c");
      assertThat(counted.exit()).as(counted.err()).isZero();
      assertThat(counted.out().strip()).isEqualTo(String.valueOf(input.length));
      Result echoed =
          sbx("ünïcode\n".getBytes(StandardCharsets.UTF_8), "sandbox", "exec", id, "cat");
      assertThat(echoed.out()).isEqualTo("ünïcode\n");
      // --timeout ends it with 124
      Result slow = sbx(null, "sandbox", "exec", "--timeout", "2s", id, "--", "sleep", "60");
      assertThat(slow.exit()).isEqualTo(124);
      assertThat(slow.err()).contains("ran longer than");

      outputStreamsWhileTheCommandRuns(id);

      // logs of the API, for people and as JSON lines
      Result logs = sbx(null, "sandbox", "logs", id);
      assertThat(logs.exit()).as(logs.err()).isZero();
      assertThat(logs.out()).contains("INFO   Sandbox created").contains("template=");
      Result jsonLogs = sbx(null, "sandbox", "logs", "--json", id);
      // the API's lifecycle events merged by time with envd's own log (which starts earlier: a
      // warm-pool sandbox's envd was up before the create claimed it)
      List<String> messages =
          jsonLogs.out().lines().map(line -> new JsonObject(line).getString("message")).toList();
      assertThat(messages).contains("Sandbox created");
      assertThat(messages).anyMatch(message -> message.startsWith("envd "));

      // timeout
      Result timeout = sbx(null, "sandbox", "timeout", id, "2m");
      assertThat(timeout.exit()).as(timeout.err()).isZero();
      assertThat(timeout.out()).startsWith("Sandbox " + id + " ends at");

      // kill, and what a user sees afterwards
      Result killed = sbx(null, "sandbox", "kill", id);
      assertThat(killed.exit()).as(killed.err()).isZero();
      assertThat(killed.out()).isEqualTo("Killed " + id + ".\n");
      Result gone = sbx(null, "sandbox", "info", id);
      assertThat(gone.exit()).isEqualTo(4);
      assertThat(gone.err()).startsWith("sbx sandbox info: ").doesNotContain("\tat ");
      assertThat(sbx(null, "sandbox", "kill", id).exit()).isEqualTo(4);
      assertThat(sbx(null, "sandbox", "exec", id, "true").exit()).isEqualTo(4);
      // the log outlives the sandbox
      assertThat(sbx(null, "sandbox", "logs", id).out()).contains("Sandbox killed");
    } finally {
      Sandbox.kill(id, connection());
    }

    // the failures a user meets
    Result wrongKey = sbx(null, "sandbox", "list", "--api-key", "e2b_" + "0".repeat(40));
    assertThat(wrongKey.exit()).isEqualTo(3);
    assertThat(wrongKey.err()).startsWith("sbx sandbox list: the API refused the key");
    int closed;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = socket.getLocalPort();
    }
    Result down = sbx(null, "sandbox", "list", "--api-url", "http://127.0.0.1:" + closed);
    assertThat(down.exit()).isEqualTo(5);
    assertThat(down.err()).contains("cannot reach the API").doesNotContain("\tat ");
    assertThat(
            Sandbox.list(SandboxQuery.builder().metadata("run", run).build(), connection())
                .nextItems())
        .as("no sandbox of this run is left")
        .isEmpty();
  }

  /** exec prints output as it comes, not at the end. */
  private void outputStreamsWhileTheCommandRuns(String id) throws Exception {
    Process process =
        start(
            "sandbox",
            "exec",
            id,
            "--",
            "sh",
            "-c",
            "echo first; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo second");
    process.getOutputStream().close();
    try (BufferedReader out =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      CompletableFuture<String> first = CompletableFuture.supplyAsync(() -> readLine(out));
      assertThat(first.get(COMMAND_LIMIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("first");
      assertThat(process.isAlive()).as("the command still waits for /tmp/go").isTrue();
      assertThat(sbx(null, "sandbox", "exec", id, "touch", "/tmp/go").exit()).isZero();
      assertThat(readLine(out)).isEqualTo("second");
      assertThat(process.waitFor(COMMAND_LIMIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
      assertThat(process.exitValue()).isZero();
    } finally {
      process.destroyForcibly();
    }
  }

  @Test
  void shellIsAnInteractiveTerminalThroughTmux() throws Exception {
    Sandbox sandbox =
        Sandbox.create(
            SandboxOptions.builder()
                .connection(connection())
                .template("base")
                .timeout(Duration.ofMinutes(3))
                .metadata("run", run)
                .build());
    String session = "sbxc-shell";
    try {
      // after the CLI: its exit code and whether the terminal is back in canonical mode
      String command =
          launcher
              + " sandbox shell "
              + sandbox.sandboxId()
              + "; echo \"shell exited $?\"; stty -a | grep -o -- '-\\?icanon'; sleep 600";
      tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", command);
      String prompt = awaitPane(session, p -> p.contains("user@"), "a bash prompt");
      assertThat(prompt).contains("user@");

      tmux("send-keys", "-t", session, "tty; stty size; echo $((6*7))", "Enter");
      String[] size = paneSize(session);
      String shown =
          awaitPane(session, p -> p.contains("\n42"), "the answers of tty, stty size and echo");
      assertThat(shown).contains("/dev/pts/").contains(size[0] + " " + size[1]).contains("\n42");

      // a resize reaches the sandbox's terminal (SIGWINCH → pty resize)
      tmux("resize-window", "-t", session, "-x", "120", "-y", "40");
      String[] resized = paneSize(session);
      assertThat(resized).isNotEqualTo(size);
      String want = "S=" + resized[0] + " " + resized[1];
      Instant deadline = Instant.now().plus(COMMAND_LIMIT);
      String pane = "";
      while (Instant.now().isBefore(deadline) && !pane.contains(want)) {
        tmux("send-keys", "-t", session, "echo S=$(stty size)", "Enter");
        Thread.sleep(1000);
        pane = capture(session);
      }
      assertThat(pane).as("the sandbox's terminal follows the window").contains(want);

      tmux("send-keys", "-t", session, "exit", "Enter");
      String after = awaitPane(session, p -> p.contains("shell exited"), "the shell's end");
      assertThat(after).contains("shell exited 0");
      String restored = awaitPane(session, p -> p.contains("icanon"), "stty -a after the shell");
      assertThat(restored.substring(restored.indexOf("shell exited")))
          .as("raw mode was undone")
          .contains("icanon")
          .doesNotContain("-icanon");
    } finally {
      try {
        tmux("kill-session", "-t", session);
      } catch (RuntimeException e) {
        // gone already
      }
      sandbox.kill();
      sandbox.disconnect();
    }
  }

  // ---- helpers

  private ConnectionConfig connection() {
    SingleNodeServer running = server;
    assertThat(running).isNotNull();
    return ConnectionConfig.builder()
        .environment(Map.of())
        .apiKey(apiKey)
        .apiUrl(running.apiUrl())
        .sandboxUrl(running.proxyUrl())
        .domain(DOMAIN)
        .build();
  }

  private Process start(String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(String.valueOf(launcher));
    command.addAll(List.of(args));
    return new ProcessBuilder(command).start();
  }

  /** Runs the CLI with {@code stdin} (null: an empty pipe, closed at once). */
  private Result sbx(byte @Nullable [] stdin, String... args) throws Exception {
    Process process = start(args);
    CompletableFuture<byte[]> out =
        CompletableFuture.supplyAsync(() -> readAll(process.getInputStream()));
    CompletableFuture<byte[]> err =
        CompletableFuture.supplyAsync(() -> readAll(process.getErrorStream()));
    try (OutputStream in = process.getOutputStream()) {
      if (stdin != null) {
        in.write(stdin);
      }
    }
    if (!process.waitFor(COMMAND_LIMIT.toSeconds(), TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("sbx " + String.join(" ", args) + " did not end");
    }
    Result result =
        new Result(
            process.exitValue(),
            new String(out.get(), StandardCharsets.UTF_8),
            new String(err.get(), StandardCharsets.UTF_8));
    System.out.println(
        "[it] sbx " + String.join(" ", args) + " -> " + result.exit() + "\n" + result.err());
    return result;
  }

  private static byte[] readAll(java.io.InputStream in) {
    try {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String readLine(BufferedReader in) {
    try {
      return String.valueOf(in.readLine());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private String tmux(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("tmux", "-L", tmuxSocket));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException("tmux " + String.join(" ", args) + " hung");
    }
    if (process.exitValue() != 0) {
      throw new IllegalStateException("tmux " + String.join(" ", args) + " failed: " + out);
    }
    return out;
  }

  private String capture(String session) throws IOException, InterruptedException {
    return tmux("capture-pane", "-p", "-J", "-t", session, "-S", "-200");
  }

  private String[] paneSize(String session) throws IOException, InterruptedException {
    String out = tmux("display-message", "-p", "-t", session, "#{pane_height} #{pane_width}");
    Matcher m = Pattern.compile("(\\d+) (\\d+)").matcher(out);
    assertThat(m.find()).as(out).isTrue();
    return new String[] {m.group(1), m.group(2)};
  }

  private String awaitPane(String session, Predicate<String> ready, String what)
      throws IOException, InterruptedException {
    Instant deadline = Instant.now().plus(COMMAND_LIMIT);
    String pane = "";
    while (Instant.now().isBefore(deadline)) {
      pane = capture(session);
      if (ready.test(pane)) {
        return pane;
      }
      Thread.sleep(250);
    }
    throw new AssertionError("waited in vain for " + what + "; the pane shows:\n" + pane);
  }
}
