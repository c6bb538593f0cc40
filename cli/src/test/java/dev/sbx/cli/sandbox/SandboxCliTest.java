package dev.sbx.cli.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.sun.net.httpserver.HttpServer;
import dev.sbx.cli.Main;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code sbx sandbox …} in-process against a scripted API (JDK HttpServer): output, exit codes and
 * messages of expected failures (bad arguments, no key, wrong key, unknown sandbox, server down).
 */
class SandboxCliTest {
  private static final String KEY = "e2b_good";
  private static final String SANDBOX =
      """
      {"sandboxID":"isb1","templateID":"tpl1","alias":"base","clientID":"c",
       "startedAt":"2026-01-02T03:04:05.123Z","endAt":"2026-01-02T03:09:05Z","cpuCount":2,
       "memoryMB":512,"diskSizeMB":1024,"envdVersion":"0.6.4","state":"running",
       "metadata":{"owner":"me","run":"7"}}""";

  private HttpServer api;
  private final List<String> requests = new ArrayList<>();
  private final Map<String, String> answers = new ConcurrentHashMap<>();

  record Result(int exit, String out, String err) {}

  @BeforeEach
  void start() throws IOException {
    api = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    api.createContext(
        "/",
        exchange -> {
          String path =
              exchange.getRequestURI().getRawPath()
                  + (exchange.getRequestURI().getRawQuery() == null
                      ? ""
                      : "?" + exchange.getRequestURI().getRawQuery());
          String line = exchange.getRequestMethod() + " " + path;
          synchronized (requests) {
            requests.add(line);
          }
          int status;
          String body;
          if (!KEY.equals(exchange.getRequestHeaders().getFirst("X-API-KEY"))) {
            status = 401;
            body = "{\"code\":401,\"message\":\"Invalid API key\"}";
          } else if (answers.containsKey(line)) {
            status = 200;
            body = answers.get(line);
          } else {
            status = 404;
            body = "{\"code\":404,\"message\":\"sandbox \\\"x\\\" not found\"}";
          }
          byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().add("Content-Type", "application/json");
          exchange.sendResponseHeaders(status, bytes.length);
          try (OutputStream o = exchange.getResponseBody()) {
            o.write(bytes);
          }
        });
    api.start();
  }

  @AfterEach
  void stop() {
    api.stop(0);
  }

  private String url() {
    return "http://127.0.0.1:" + api.getAddress().getPort();
  }

  private Result sbx(String... args) {
    CommandLine cli = Main.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int exit = cli.execute(args);
    return new Result(exit, out.toString(), err.toString());
  }

  private Result withKey(String... args) {
    // options first: everything after exec's sandbox id belongs to the command
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(
        Math.min(2, all.size()),
        List.of("--api-key", KEY, "--api-url", url(), "--domain", "sbx.test"));
    return sbx(all.toArray(String[]::new));
  }

  @Test
  void listPrintsATableOrJsonAndSendsTheFilters() {
    answers.put("GET /v2/sandboxes?metadata=owner%3Dme&state=running", "[" + SANDBOX + "]");
    Result table = withKey("sandbox", "list", "-m", "owner=me", "--state", "running");
    assertThat(table.exit()).isZero();
    assertThat(table.out())
        .isEqualTo(
            """
            SANDBOX ID  TEMPLATE  STATE    CPUS  MEMORY MB  STARTED               ENDS                  METADATA
            isb1        base      running  2     512        2026-01-02T03:04:05Z  2026-01-02T03:09:05Z  owner=me,run=7
            """);

    Result json = withKey("sandbox", "list", "--json", "-m", "owner=me", "-s", "running");
    assertThat(json.exit()).isZero();
    JsonObject listed = new JsonArray(json.out().strip()).getJsonObject(0);
    assertThat(listed.getString("sandboxID")).isEqualTo("isb1");
    assertThat(listed.getString("state")).isEqualTo("running");
    assertThat(listed.getInteger("memoryMB")).isEqualTo(512);
    assertThat(listed.getJsonObject("metadata").getMap()).containsEntry("run", "7");
    assertThat(listed.getString("startedAt")).isEqualTo("2026-01-02T03:04:05.123Z");
  }

  @Test
  void infoKillAndLogs() {
    answers.put("GET /sandboxes/isb1", SANDBOX);
    Result info = withKey("sandbox", "info", "isb1");
    assertThat(info.exit()).isZero();
    assertThat(info.out())
        .contains("sandbox id  isb1")
        .contains("template    tpl1 (base)")
        .contains("metadata    owner=me,run=7")
        .doesNotContain("FIELD");
    Result json = withKey("sandbox", "info", "--json", "isb1");
    assertThat(new JsonObject(json.out()).getString("envdVersion")).isEqualTo("0.6.4");

    answers.put(
        "GET /v2/sandboxes/isb1/logs?limit=1000",
        """
        {"logs":[{"timestamp":"2026-01-02T03:04:05.123456Z","level":"info",
          "message":"sandbox created","fields":{"template":"base"}}]}""");
    Result logs = withKey("sandbox", "logs", "isb1");
    assertThat(logs.exit()).isZero();
    assertThat(logs.out())
        .isEqualTo("2026-01-02T03:04:05.123Z  INFO   sandbox created  template=base\n");
    Result logsJson = withKey("sandbox", "logs", "--json", "isb1");
    assertThat(new JsonObject(logsJson.out()).getString("message")).isEqualTo("sandbox created");

    // DELETE: the fake answers 404 for anything it has no answer for; 200 for this one
    answers.put("DELETE /sandboxes/isb1", "");
    Result kill = withKey("sandbox", "kill", "isb1", "gone");
    assertThat(kill.exit()).isEqualTo(SandboxSubcommand.NOT_FOUND);
    assertThat(kill.out()).isEqualTo("Killed isb1.\n");
    assertThat(kill.err()).isEqualTo("sbx sandbox kill: no sandbox gone\n");
  }

  @Test
  void killAllKillsTheRunningSandboxesOfTheFilter() {
    answers.put(
        "GET /v2/sandboxes?metadata=owner%3Dme&state=running&limit=100",
        "[" + SANDBOX + "," + SANDBOX.replace("isb1", "isb2") + "]");
    answers.put("DELETE /sandboxes/isb1", "");
    // isb2 ended between the list and the kill (404): no error with --all
    Result all = withKey("sandbox", "kill", "--all", "-m", "owner=me");
    assertThat(all.exit()).as(all.err()).isZero();
    assertThat(all.out()).isEqualTo("Killed isb1.\n");
    assertThat(requests).endsWith("DELETE /sandboxes/isb1", "DELETE /sandboxes/isb2");

    answers.put("GET /v2/sandboxes?state=running&limit=100", "[]");
    Result none = withKey("sandbox", "kill", "-a");
    assertThat(none.exit()).isZero();
    assertThat(none.out()).isEqualTo("No running sandboxes.\n");

    int sent = requests.size();
    assertThat(withKey("sandbox", "kill").exit()).isEqualTo(2);
    assertThat(withKey("sandbox", "kill", "--all", "isb1").exit()).isEqualTo(2);
    assertThat(withKey("sandbox", "kill", "-m", "a=b", "isb1").exit()).isEqualTo(2);
    assertThat(requests).hasSize(sent);
  }

  @Test
  void anUnknownSandboxIsExitCode4WithoutAStackTrace() {
    for (String[] args :
        List.of(
            new String[] {"sandbox", "info", "nope"},
            new String[] {"sandbox", "logs", "nope"},
            new String[] {"sandbox", "exec", "nope", "--", "true"},
            new String[] {"sandbox", "timeout", "nope", "5m"})) {
      Result r = withKey(args);
      assertThat(r.exit()).as(String.join(" ", args)).isEqualTo(4);
      assertThat(r.err()).contains("not found").doesNotContain("\tat ").doesNotContain("Exception");
    }
  }

  @Test
  void aWrongKeyIsExitCode3() {
    Result r = sbx("sandbox", "list", "--api-key", "e2b_wrong", "--api-url", url());
    assertThat(r.exit()).isEqualTo(3);
    assertThat(r.err())
        .startsWith("sbx sandbox list: the API refused the key")
        .contains("Invalid API key")
        .doesNotContain("\tat ");
  }

  @Test
  void noKeyAtAllSaysWhereToGetOne() {
    assumeThat(System.getenv("E2B_API_KEY")).isNull();
    Result r = sbx("sandbox", "list", "--api-url", url());
    assertThat(r.exit()).isEqualTo(3);
    assertThat(r.err()).contains("no API key: set E2B_API_KEY or --api-key");
    assertThat(requests).isEmpty();
  }

  @Test
  void aServerThatIsDownIsExitCode5() throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    Result r = sbx("sandbox", "list", "--api-key", KEY, "--api-url", "http://127.0.0.1:" + port);
    assertThat(r.exit()).isEqualTo(5);
    assertThat(r.err())
        .startsWith("sbx sandbox list: cannot reach the API at http://127.0.0.1:" + port)
        .contains("is the server running?")
        .doesNotContain("\tat ");
  }

  @Test
  void badArgumentsAreExitCode2BeforeAnyRequest() {
    assertThat(withKey("sandbox", "create", "--timeout", "banana").err())
        .contains("'banana' is not a duration");
    assertThat(withKey("sandbox", "create", "--timeout", "banana").exit()).isEqualTo(2);
    assertThat(withKey("sandbox", "create", "-m", "novalue").exit()).isEqualTo(2);
    assertThat(withKey("sandbox", "list", "--state", "frozen").err())
        .contains("unknown state 'frozen'");
    assertThat(withKey("sandbox", "list", "--state", "frozen").exit()).isEqualTo(2);
    assertThat(withKey("sandbox", "list", "--limit", "0").exit()).isEqualTo(2);
    assertThat(withKey("sandbox", "exec").exit()).isEqualTo(2);
    Result noCommand = withKey("sandbox", "exec", "isb1", "--");
    assertThat(noCommand.exit()).isEqualTo(2);
    assertThat(noCommand.err()).contains("no command given");
    assertThat(withKey("sandbox", "logs", "--level", "trace", "isb1").exit()).isEqualTo(2);
    assertThat(sbx("sandbox", "list", "--api-url", "not a url", "--api-key", KEY).exit())
        .isEqualTo(2);
    assertThat(withKey("sandbox", "frobnicate").exit()).isEqualTo(2);
    assertThat(requests).isEmpty();
  }

  @Test
  void execTakesEverythingAfterTheIdAsTheCommand() {
    ExecCommand exec = new ExecCommand();
    new CommandLine(exec).setStopAtPositional(true).parseArgs("--cwd", "/tmp", "isb1", "ls", "-la");
    assertThat(exec.sandboxId).isEqualTo("isb1");
    assertThat(exec.cwd).isEqualTo("/tmp");
    assertThat(exec.command).containsExactly("ls", "-la");
    assertThat(ExecCommand.shellCommand(List.of("echo", "a b", "it's", "$HOME", "x=1,y")))
        .isEqualTo("echo 'a b' 'it'\\''s' '$HOME' x=1,y");
    assertThat(ExecCommand.shellCommand(List.of(""))).isEqualTo("''");
  }
}
