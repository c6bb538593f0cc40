package dev.sbx.api;

import static dev.sbx.api.ApiTestClient.assertError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sbx.api.ApiTestClient.Response;
import dev.sbx.api.node.NodeAddress;
import dev.sbx.api.store.TeamLimits;
import dev.sbx.proxy.catalog.InMemoryCatalog;
import io.grpc.Status;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** E2B's REST API against a real ApiServer, SQLite in a temp dir and two fake orchestrators. */
@SuppressWarnings("NullAway") // fields set in start(), per test
class ApiServerTest {
  private static final TeamLimits LIMITS = new TeamLimits(5, 1, 8, 8192, 1000, 1000);
  @TempDir Path dir;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private FakeOrchestrator node1;
  private FakeOrchestrator node2;
  private InMemoryCatalog catalog;
  private ApiServer api;
  private String key;
  private ApiTestClient client;

  private void start(TeamLimits limits) throws Exception {
    start(limits, false);
  }

  private void start(TeamLimits limits, boolean node2DownAtStart) throws Exception {
    node1 = new FakeOrchestrator("node1-" + System.nanoTime());
    node2 = new FakeOrchestrator("node2-" + System.nanoTime());
    closeables.add(node1);
    closeables.add(node2);
    node2.down = node2DownAtStart;
    catalog = new InMemoryCatalog();
    List<NodeAddress> nodes =
        List.of(
            new NodeAddress("node1", node1.name, "127.0.0.1", node1.proxyPort()),
            new NodeAddress("node2", node2.name, "127.0.0.1", node2.proxyPort()));
    ApiConfig config =
        ApiConfig.defaults(dir, nodes, "0123456789abcdef0123".getBytes(StandardCharsets.UTF_8))
            .withPort(0)
            .withAdminToken("admin-secret")
            .withFirstTeamLimits(limits)
            .withIntervals(Duration.ofHours(1), Duration.ofMillis(50))
            .withChannels(a -> (a.id().equals("node1") ? node1 : node2).channel());
    api = ApiServer.start(config, catalog);
    key = api.firstApiKey().orElseThrow();
    client = new ApiTestClient(api.port(), key);
  }

  @AfterEach
  void stop() throws Exception {
    if (api != null) {
      api.close();
    }
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  private String create(String body) throws Exception {
    Response r = client.authed("POST", "/sandboxes", body);
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    return r.json().getString("sandboxID");
  }

  @Test
  void createGetConnectKillV1() throws Exception {
    start(LIMITS);
    Response created =
        client.authed(
            "POST",
            "/sandboxes",
            "{\"templateID\":\"base\",\"timeout\":300,\"secure\":true,\"allow_internet_access\":true,"
                + "\"metadata\":{\"user\":\"alice\"},\"envVars\":{\"FOO\":\"bar\"}}");
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    JsonObject sandbox = created.json();
    String id = sandbox.getString("sandboxID");
    assertThat(id).matches("i[a-z0-9]{20}");
    assertThat(sandbox.getString("templateID")).isEqualTo("base");
    assertThat(sandbox.getString("alias")).isEqualTo("base");
    assertThat(sandbox.getString("clientID")).isEqualTo("6532622b");
    assertThat(sandbox.getString("envdVersion")).isEqualTo("0.6.4");
    assertThat(sandbox.getString("envdAccessToken")).matches("[0-9a-f]{64}");
    assertThat(sandbox.containsKey("trafficAccessToken")).isTrue();
    assertThat(sandbox.getValue("trafficAccessToken")).isNull();

    FakeOrchestrator owner = node1.sandboxes.containsKey(id) ? node1 : node2;
    var onNode = owner.sandboxes.get(id);
    assertThat(onNode.getEnvVarsMap()).containsEntry("FOO", "bar");
    assertThat(onNode.getMetadataMap()).containsEntry("user", "alice");
    assertThat(onNode.getEnvdAccessToken()).isEqualTo(sandbox.getString("envdAccessToken"));
    assertThat(onNode.getEgress().getInternetAccess()).isTrue();
    assertThat(catalog.find(id).toCompletableFuture().get()).isPresent();

    Response got = client.authed("GET", "/sandboxes/" + id, null);
    assertThat(got.status()).isEqualTo(200);
    JsonObject detail = got.json();
    assertThat(detail.getString("state")).isEqualTo("running");
    assertThat(detail.getJsonObject("metadata").getString("user")).isEqualTo("alice");
    Instant startedAt = Instant.parse(detail.getString("startedAt"));
    Instant endAt = Instant.parse(detail.getString("endAt"));
    assertThat(Duration.between(startedAt, endAt)).isEqualTo(Duration.ofSeconds(300));
    assertThat(detail.getJsonObject("lifecycle").getString("onTimeout")).isEqualTo("kill");

    // the composite <id>-<clientID> form
    assertThat(client.authed("GET", "/sandboxes/" + id + "-6532622b", null).status())
        .isEqualTo(200);

    // connect extends only
    Response connected = client.authed("POST", "/sandboxes/" + id + "/connect", "{\"timeout\":10}");
    assertThat(connected.status()).isEqualTo(200);
    assertThat(connected.json().getString("sandboxID")).isEqualTo(id);
    assertThat(
            Instant.parse(client.authed("GET", "/sandboxes/" + id, null).json().getString("endAt")))
        .isEqualTo(endAt);
    // timeout may shorten
    assertThat(client.authed("POST", "/sandboxes/" + id + "/timeout", "{\"timeout\":100}").status())
        .isEqualTo(204);
    Instant shortened =
        Instant.parse(client.authed("GET", "/sandboxes/" + id, null).json().getString("endAt"));
    assertThat(shortened).isBefore(endAt);
    assertThat(owner.sandboxes.get(id).getEndTime().getSeconds())
        .isEqualTo(shortened.plusSeconds(30).getEpochSecond());
    // refresh extends by at least 15 s; v2 connect with {}
    assertThat(client.authed("POST", "/sandboxes/" + id + "/refreshes", null).status())
        .isEqualTo(204);
    assertThat(client.authed("POST", "/v2/sandboxes/" + id + "/connect", "{}").status())
        .isEqualTo(200);
    assertThat(
            Instant.parse(client.authed("GET", "/sandboxes/" + id, null).json().getString("endAt")))
        .isAfter(shortened.plusSeconds(150));

    // metrics through the node proxy, with the envd token
    Response metrics = client.authed("GET", "/sandboxes/" + id + "/metrics", null);
    assertThat(metrics.status()).as(metrics.body()).isEqualTo(200);
    JsonObject sample = metrics.array().getJsonObject(0);
    assertThat(sample.getInteger("cpuCount")).isEqualTo(2);
    assertThat(sample.getDouble("cpuUsedPct")).isEqualTo(12.5);
    assertThat(sample.getLong("memTotal")).isEqualTo(536870912L);
    assertThat(owner.lastMetricsToken).isEqualTo(sandbox.getString("envdAccessToken"));

    // resume of a running one is E2B's 409 (pause and resume: PauseApiTest)
    assertError(
        client.authed("POST", "/sandboxes/" + id + "/resume", "{}"),
        409,
        "Sandbox " + id + " is already running");

    assertThat(client.authed("DELETE", "/sandboxes/" + id, null).status()).isEqualTo(204);
    assertThat(owner.sandboxes).doesNotContainKey(id);
    assertThat(catalog.find(id).toCompletableFuture().get()).isEmpty();
    assertError(
        client.authed("DELETE", "/sandboxes/" + id, null),
        404,
        "Sandbox \"" + id + "\" doesn't exist");
    assertError(client.authed("GET", "/sandboxes/" + id, null), 404, "Sandbox \"" + id + "\"");
    assertError(
        client.authed("POST", "/sandboxes/" + id + "/connect", "{\"timeout\":10}"), 404, "Sandbox");
    assertError(client.authed("POST", "/sandboxes/" + id + "/resume", "{}"), 404, "Sandbox");

    // the lifecycle log stays
    Response logs = client.authed("GET", "/sandboxes/" + id + "/logs", null);
    assertThat(logs.status()).isEqualTo(200);
    assertThat(
            logs.json().getJsonArray("logEntries").stream()
                .map(e -> ((JsonObject) e).getString("message")))
        .contains("Sandbox created", "Sandbox killed");
    Response logsV2 =
        client.authed("GET", "/v2/sandboxes/" + id + "/logs?direction=backward&limit=1", null);
    assertThat(logsV2.json().getJsonArray("logs").getJsonObject(0).getString("message"))
        .isEqualTo("Sandbox killed");
  }

  @Test
  void logsMergeLifecycleEventsWithEnvdsLogByTime() throws Exception {
    start(LIMITS);
    Response created =
        client.authed(
            "POST", "/sandboxes", "{\"templateID\":\"base\",\"timeout\":300,\"secure\":true}");
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    String id = created.json().getString("sandboxID");
    FakeOrchestrator owner = node1.sandboxes.containsKey(id) ? node1 : node2;
    Instant base = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    owner.envdLogs =
        new JsonObject()
            .put(
                "logs",
                new JsonArray()
                    .add(envdLine(base.minusSeconds(60), "info", "envd started"))
                    .add(envdLine(base.plusSeconds(1), "trace", "process 7 started"))
                    .add(envdLine(base.plusSeconds(2), "warn", "disk almost full")))
            .encode();

    Response v1 = client.authed("GET", "/sandboxes/" + id + "/logs", null);
    assertThat(v1.status()).as(v1.body()).isEqualTo(200);
    assertThat(owner.lastLogsToken).isEqualTo(created.json().getString("envdAccessToken"));
    JsonArray entries = v1.json().getJsonArray("logEntries");
    assertThat(entries.stream().map(e -> ((JsonObject) e).getString("message")))
        .containsSubsequence("envd started", "Sandbox created", "process 7 started")
        .endsWith("disk almost full");
    JsonObject started = find(entries, "process 7 started");
    assertThat(started.getString("level")).isEqualTo("info");
    assertThat(started.getString("timestamp")).isEqualTo(base.plusSeconds(1).toString());
    assertThat(started.getJsonObject("fields").getString("source")).isEqualTo("envd");
    assertThat(started.getJsonObject("fields").getString("logger")).isEqualTo("dev.sbx.envd.T");
    assertThat(find(entries, "Sandbox created").getJsonObject("fields").getString("source"))
        .isEqualTo("lifecycle");
    JsonArray lines = v1.json().getJsonArray("logs");
    assertThat(lines.size()).isEqualTo(entries.size());
    JsonObject lastLine = lines.getJsonObject(lines.size() - 1);
    assertThat(lastLine.getString("timestamp")).isEqualTo(base.plusSeconds(2).toString());
    JsonObject parsed = new JsonObject(lastLine.getString("line"));
    assertThat(parsed.getString("level")).isEqualTo("warn");
    assertThat(parsed.getString("message")).isEqualTo("disk almost full");
    assertThat(parsed.getString("source")).isEqualTo("envd");

    // v1 paging: oldest first from start (ms), at most limit
    long startMs = base.plusMillis(1500).toEpochMilli();
    assertThat(messages(client.authed("GET", "/sandboxes/" + id + "/logs?start=" + startMs, null)))
        .containsExactly("disk almost full");
    assertThat(messages(client.authed("GET", "/sandboxes/" + id + "/logs?limit=2", null)))
        .containsExactly("envd started", "Sandbox created");
    assertThat(messages(client.authed("GET", "/sandboxes/" + id + "/logs?limit=0", null)))
        .isEmpty();

    // v2: direction, cursor, level, search
    assertThat(v2Messages(id, "direction=backward&limit=2"))
        .containsExactly("disk almost full", "process 7 started");
    assertThat(v2Messages(id, "direction=backward&cursor=" + startMs + "&limit=1"))
        .containsExactly("process 7 started");
    assertThat(v2Messages(id, "cursor=" + startMs)).containsExactly("disk almost full");
    assertThat(v2Messages(id, "level=warn")).containsExactly("disk almost full");
    assertThat(v2Messages(id, "search=process")).containsExactly("process 7 started");

    // envd that cannot be read: the lifecycle events and one warning, never a failure
    owner.envdLogsStatus = 500;
    List<String> failed = v2Messages(id, "");
    assertThat(failed).contains("Sandbox created").doesNotContain("envd started");
    assertThat(failed).anyMatch(m -> m.equals("envd's log could not be read: envd answered 500"));
    owner.envdLogsStatus = 200;
    owner.envdLogs = "{\"logs\":[{\"timestamp\":\"yesterday\"}]}";
    assertThat(v2Messages(id, "level=warn"))
        .containsExactly("envd's log could not be read: envd's answer is malformed");

    // killed: envd is not asked, the lifecycle log stays
    assertThat(client.authed("DELETE", "/sandboxes/" + id, null).status()).isEqualTo(204);
    owner.lastLogsToken = null;
    assertThat(v2Messages(id, "direction=backward&limit=1")).containsExactly("Sandbox killed");
    assertThat(owner.lastLogsToken).isNull();
  }

  private static JsonObject envdLine(Instant at, String level, String message) {
    return new JsonObject()
        .put("timestamp", at.toString())
        .put("level", level)
        .put("logger", "dev.sbx.envd.T")
        .put("message", message);
  }

  private static JsonObject find(JsonArray entries, String message) {
    return entries.stream()
        .map(e -> (JsonObject) e)
        .filter(e -> e.getString("message").equals(message))
        .findFirst()
        .orElseThrow();
  }

  private static List<String> messages(Response v1) {
    assertThat(v1.status()).as(v1.body()).isEqualTo(200);
    return v1.json().getJsonArray("logEntries").stream()
        .map(e -> ((JsonObject) e).getString("message"))
        .toList();
  }

  private List<String> v2Messages(String id, String query) throws Exception {
    Response r = client.authed("GET", "/v2/sandboxes/" + id + "/logs?" + query, null);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return r.json().getJsonArray("logs").stream()
        .map(e -> ((JsonObject) e).getString("message"))
        .toList();
  }

  @Test
  void createV2DefaultsToSecureAnd300Seconds() throws Exception {
    start(LIMITS);
    Response created = client.authed("POST", "/v2/sandboxes", "{\"templateID\":\"base\"}");
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    assertThat(created.json().getString("envdAccessToken")).isNotEmpty();
    JsonObject detail =
        client.authed("GET", "/sandboxes/" + created.json().getString("sandboxID"), null).json();
    assertThat(
            Duration.between(
                Instant.parse(detail.getString("startedAt")),
                Instant.parse(detail.getString("endAt"))))
        .isEqualTo(Duration.ofSeconds(300));
    // v1 defaults: 15 s, not secure
    Response v1 = client.authed("POST", "/sandboxes", "{\"templateID\":\"base\"}");
    assertThat(v1.json().containsKey("envdAccessToken")).isFalse();
  }

  @Test
  void networkRulesAndTrafficToken() throws Exception {
    start(LIMITS);
    assertError(
        client.authed(
            "POST",
            "/sandboxes",
            "{\"templateID\":\"base\",\"network\":{\"allowPublicTraffic\":false}}"),
        400,
        "You cannot create a sandbox without public access");
    Response created =
        client.authed(
            "POST",
            "/sandboxes",
            "{\"templateID\":\"base\",\"secure\":true,\"network\":{\"allowPublicTraffic\":false,"
                + "\"allowOut\":[\"1.1.1.1\"],\"denyOut\":[\"0.0.0.0/0\"]}}");
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    String id = created.json().getString("sandboxID");
    String traffic = created.json().getString("trafficAccessToken");
    assertThat(traffic).matches("[0-9a-f]{64}");
    assertThat(catalog.find(id).toCompletableFuture().get().orElseThrow().trafficAccessToken())
        .isEqualTo(traffic);
    var onNode = (node1.sandboxes.containsKey(id) ? node1 : node2).sandboxes.get(id);
    assertThat(onNode.getEgress().getInternetAccess()).isFalse();
    assertThat(onNode.getEgress().getAllowedCidrsList()).containsExactly("1.1.1.1/32");
    assertError(
        client.authed(
            "POST",
            "/sandboxes",
            "{\"templateID\":\"base\",\"network\":{\"allowOut\":[\"example.com\"]}}"),
        400,
        "network.allowOut");
  }

  @Test
  void maskRequestHostIsStoredShownAndCarriedToTheCatalog() throws Exception {
    start(LIMITS);
    Response created =
        client.authed(
            "POST",
            "/sandboxes",
            "{\"templateID\":\"base\",\"network\":{\"maskRequestHost\":"
                + "\"masked.example:${PORT}\"}}");
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    String id = created.json().getString("sandboxID");
    var entry = catalog.find(id).toCompletableFuture().get().orElseThrow();
    assertThat(entry.maskRequestHost()).isEqualTo("masked.example:${PORT}");
    assertThat(entry.maskedHost(8000)).isEqualTo("masked.example:8000");
    assertThat(entry.maskedHost(49983)).isNull();
    JsonObject network =
        client.authed("GET", "/sandboxes/" + id, null).json().getJsonObject("network");
    assertThat(network.getString("maskRequestHost")).isEqualTo("masked.example:${PORT}");

    // without a mask the entry has none
    String plain =
        client
            .authed("POST", "/sandboxes", "{\"templateID\":\"base\"}")
            .json()
            .getString("sandboxID");
    assertThat(catalog.find(plain).toCompletableFuture().get().orElseThrow().maskRequestHost())
        .isNull();

    for (String good : new String[] {"example.com", "10.0.0.1:8080", "${PORT}.x.test", "[::1]:1"}) {
      Response ok =
          client.authed(
              "POST",
              "/sandboxes",
              "{\"templateID\":\"base\",\"network\":{\"maskRequestHost\":\"" + good + "\"}}");
      assertThat(ok.status()).as(good + ": " + ok.body()).isEqualTo(201);
      // within the team's concurrency limit
      client.authed("DELETE", "/sandboxes/" + ok.json().getString("sandboxID"), null);
    }
    for (String bad :
        new String[] {
          "\"\"",
          "42",
          "\"has space.example\"",
          "\"h\u00e9.example\"",
          "\"a/b\"",
          "\"example.com:99999\"",
          "\"example.com:\"",
          "\"-bad.example\"",
          "\"" + "a".repeat(256) + "\""
        }) {
      Response refused =
          client.authed(
              "POST",
              "/sandboxes",
              "{\"templateID\":\"base\",\"network\":{\"maskRequestHost\":" + bad + "}}");
      assertError(refused, 400, "network.maskRequestHost");
    }
  }

  @Test
  void authFailures() throws Exception {
    start(LIMITS);
    assertError(client.call("GET", "/v2/sandboxes", null), 401, "Invalid API key, please visit");
    assertError(
        client.call("GET", "/v2/sandboxes", null, "X-API-Key", "e2b_" + "0".repeat(40)),
        401,
        "Invalid API key");
    assertError(
        client.call("GET", "/v2/sandboxes", null, "X-API-Key", "nope"), 401, "Invalid API key");
    assertError(
        client.call("GET", "/v2/sandboxes", null, "X-Admin-Token", "wrong", "X-Team-ID", "x"),
        401,
        "Invalid admin token");
    String teamId = api.store().teams().getFirst().id();
    assertThat(
            client
                .call(
                    "GET",
                    "/v2/sandboxes",
                    null,
                    "X-Admin-Token",
                    "admin-secret",
                    "X-Team-ID",
                    teamId)
                .status())
        .isEqualTo(200);

    // keys created and revoked by the operator
    Response newKey =
        client.call(
            "POST",
            "/admin/teams/" + teamId + "/api-keys",
            "{\"name\":\"ci\"}",
            "X-Admin-Token",
            "admin-secret");
    assertThat(newKey.status()).isEqualTo(201);
    String secret = newKey.json().getString("key");
    assertThat(client.call("GET", "/v2/sandboxes", null, "X-API-Key", secret).status())
        .isEqualTo(200);
    assertThat(
            client
                .call(
                    "DELETE",
                    "/admin/teams/" + teamId + "/api-keys/" + newKey.json().getString("id"),
                    null,
                    "X-Admin-Token",
                    "admin-secret")
                .status())
        .isEqualTo(204);
    assertError(
        client.call("GET", "/v2/sandboxes", null, "X-API-Key", secret), 401, "Invalid API key");
    assertError(
        client.call("POST", "/admin/teams", "{\"name\":\"x\"}"), 401, "Invalid admin token");

    // another team cannot see this team's sandbox
    String id = create("{\"templateID\":\"base\"}");
    Response team2 =
        client.call(
            "POST", "/admin/teams", "{\"name\":\"Other\"}", "X-Admin-Token", "admin-secret");
    String otherKey = team2.json().getString("apiKey");
    assertError(
        client.call("GET", "/sandboxes/" + id, null, "X-API-Key", otherKey), 404, "Sandbox");
    assertError(
        client.call("DELETE", "/sandboxes/" + id, null, "X-API-Key", otherKey), 404, "Sandbox");
  }

  @Test
  void badInputIsNever500() throws Exception {
    start(LIMITS);
    assertError(client.authed("POST", "/sandboxes", "{not json"), 400, "validation error");
    assertError(client.authed("POST", "/sandboxes", "[1]"), 400, "validation error");
    assertError(client.authed("POST", "/sandboxes", null), 400, "validation error");
    assertError(client.authed("POST", "/sandboxes", "{}"), 400, "validation error");
    assertError(client.authed("POST", "/sandboxes", "{\"templateID\":5}"), 400, "validation error");
    assertError(
        client.authed("POST", "/sandboxes", "{\"templateID\":\"base\",\"timeout\":\"x\"}"),
        400,
        "validation error");
    assertError(
        client.authed("POST", "/sandboxes", "{\"templateID\":\"base\",\"timeout\":1.5}"),
        400,
        "validation error");
    assertError(
        client.authed("POST", "/sandboxes", "{\"templateID\":\"base\",\"timeout\":99999999999}"),
        400,
        "validation error");
    assertError(
        client.authed("POST", "/sandboxes", "{\"templateID\":\"base\",\"timeout\":0}"),
        400,
        "Timeout must be greater than 0");
    assertError(
        client.authed("POST", "/sandboxes", "{\"templateID\":\"base\",\"timeout\":3601}"),
        400,
        "Timeout cannot be greater than 1 hours");
    assertError(
        client.authed("POST", "/sandboxes", "{\"templateID\":\"base\",\"metadata\":{\"a\":1}}"),
        400,
        "validation error");
    assertError(
        client.authed("POST", "/sandboxes", "{\"templateID\":\"base\",\"envVars\":[]}"),
        400,
        "validation error");
    assertError(
        client.authed("POST", "/sandboxes", "{\"templateID\":\"base\",\"secure\":\"yes\"}"),
        400,
        "validation error");
    assertError(
        client.authed("POST", "/sandboxes", "{\"templateID\":\"base\",\"autoPauseMemory\":false}"),
        400,
        "autoPauseMemory");
    assertError(
        client.authed("POST", "/sandboxes", "{\"templateID\":\"nope\"}"),
        404,
        "template 'nope' not found");
    assertError(
        client.authed("POST", "/sandboxes", "{\"templateID\":\"base:v2\"}"),
        404,
        "tag 'v2' does not exist for template 'base'");
    assertError(
        client.authed("POST", "/sandboxes", "{\"templateID\":\"Bad Name!\"}"),
        400,
        "Invalid template name");
    String huge =
        "{\"templateID\":\"base\",\"metadata\":{\"x\":\"" + "a".repeat(2 * 1024 * 1024) + "\"}}";
    assertError(client.authed("POST", "/sandboxes", huge), 413, "Request body is larger");
    assertError(client.authed("GET", "/sandboxes/BAD", null), 400, "Invalid sandbox ID");
    assertError(client.authed("GET", "/sandboxes/a-b-c", null), 400, "Invalid sandbox ID");
    assertError(
        client.authed("GET", "/sandboxes/abc", null),
        404,
        "Sandbox \"abc\" doesn't exist or you don't have access to it");
    assertError(client.authed("POST", "/sandboxes/abc/timeout", "{}"), 400, "validation error");
    assertError(client.authed("POST", "/sandboxes/abc/connect", "{}"), 400, "validation error");
    assertError(
        client.authed("POST", "/sandboxes/abc/connect", "{\"timeout\":-1}"),
        400,
        "validation error");
    assertError(
        client.authed("POST", "/sandboxes/abc/refreshes", "{\"duration\":4000}"),
        400,
        "validation error");
    assertError(client.authed("GET", "/v2/sandboxes?limit=0", null), 400, "validation error");
    assertError(client.authed("GET", "/v2/sandboxes?limit=abc", null), 400, "validation error");
    assertError(client.authed("GET", "/v2/sandboxes?state=dead", null), 400, "validation error");
    assertError(client.authed("GET", "/v2/sandboxes?order=up", null), 400, "validation error");
    assertError(
        client.authed("GET", "/v2/sandboxes?startedAfter=yesterday", null),
        400,
        "validation error");
    assertError(
        client.authed("GET", "/v2/sandboxes?nextToken=%25zz", null), 400, "Invalid next token");
    assertError(
        client.authed("GET", "/v2/sandboxes?nextToken=bm9wZQ==", null), 400, "Invalid next token");
    assertError(client.authed("GET", "/v2/sandboxes?metadata=a", null), 400, "Invalid metadata");
    assertError(
        client.authed("GET", "/v2/sandboxes?template=base:x", null), 400, "Template filter");
    assertError(client.authed("GET", "/sandboxes/abc/logs?limit=x", null), 400, "validation error");
    assertError(
        client.authed("GET", "/v2/sandboxes/abc/logs?direction=up", null), 400, "validation error");
    assertError(client.authed("GET", "/nowhere", null), 404, "Not found");
    assertError(client.authed("PUT", "/sandboxes", "{}"), 405, "Method PUT");
    assertError(
        client.call("GET", "/sandboxes/abc/metrics?start=x", null, "X-API-Key", key),
        400,
        "validation error");
  }

  @Test
  void listV2PagesWithCursorFiltersAndTotals() throws Exception {
    start(new TeamLimits(20, 1, 8, 8192, 1000, 1000));
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < 7; i++) {
      String meta = i % 2 == 0 ? "{\"kind\":\"even\",\"n\":\"" + i + "\"}" : "{\"kind\":\"odd\"}";
      ids.add(create("{\"templateID\":\"base\",\"timeout\":600,\"metadata\":" + meta + "}"));
    }
    List<String> seen = new ArrayList<>();
    String token = null;
    int pages = 0;
    do {
      Response page =
          client.authed(
              "GET", "/v2/sandboxes?limit=3" + (token == null ? "" : "&nextToken=" + token), null);
      assertThat(page.status()).isEqualTo(200);
      assertThat(page.header("X-Total-Running")).isEqualTo("7");
      page.array().forEach(o -> seen.add(((JsonObject) o).getString("sandboxID")));
      token = page.header("X-Next-Token");
      pages++;
    } while (token != null);
    assertThat(pages).isEqualTo(3);
    assertThat(seen).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(ids);
    // newest first
    List<String> desc =
        client.authed("GET", "/v2/sandboxes", null).array().stream()
            .map(o -> ((JsonObject) o).getString("sandboxID"))
            .toList();
    assertThat(desc).isEqualTo(seen);
    List<String> asc =
        client.authed("GET", "/v2/sandboxes?order=asc", null).array().stream()
            .map(o -> ((JsonObject) o).getString("sandboxID"))
            .toList();
    assertThat(asc).isEqualTo(seen.reversed());
    // a cursor of the other order
    String descToken = client.authed("GET", "/v2/sandboxes?limit=1", null).header("X-Next-Token");
    assertError(
        client.authed("GET", "/v2/sandboxes?order=asc&nextToken=" + descToken, null),
        400,
        "Invalid next token");

    // metadata filter, encoded as the SDK does
    String filter =
        URLEncoder.encode(
            "kind=even&n=" + URLEncoder.encode("2", StandardCharsets.UTF_8),
            StandardCharsets.UTF_8);
    Response even = client.authed("GET", "/v2/sandboxes?metadata=" + filter, null);
    assertThat(even.array()).hasSize(1);
    assertThat(even.header("X-Total-Running")).isEqualTo("1");
    assertThat(
            client
                .authed(
                    "GET",
                    "/sandboxes?metadata=" + URLEncoder.encode("kind=odd", StandardCharsets.UTF_8),
                    null)
                .array())
        .hasSize(3);
    // state and template filters
    Response paused = client.authed("GET", "/v2/sandboxes?state=paused", null);
    assertThat(paused.array()).isEmpty();
    assertThat(paused.header("X-Total-Running")).isNull();
    assertThat(
            client.authed("GET", "/v2/sandboxes?state=running,paused&template=base", null).array())
        .hasSize(7);
    assertThat(client.authed("GET", "/v2/sandboxes?template=unknown", null).array()).isEmpty();
    assertThat(
            client
                .authed("GET", "/v2/sandboxes?startedAfter=" + Instant.now().plusSeconds(60), null)
                .array())
        .isEmpty();
  }

  @Test
  void concurrencyLimitIs429() throws Exception {
    start(new TeamLimits(2, 1, 8, 8192, 1000, 1000));
    String first = create("{\"templateID\":\"base\"}");
    create("{\"templateID\":\"base\"}");
    assertError(
        client.authed("POST", "/sandboxes", "{\"templateID\":\"base\"}"),
        429,
        "you have reached the maximum number of concurrent E2B sandboxes (2)");
    client.authed("DELETE", "/sandboxes/" + first, null);
    create("{\"templateID\":\"base\"}");
  }

  @Test
  void requestRateIs429WithRetryAfter() throws Exception {
    start(new TeamLimits(2, 1, 8, 8192, 1, 3));
    for (int i = 0; i < 3; i++) {
      assertThat(client.authed("GET", "/v2/sandboxes", null).status()).isEqualTo(200);
    }
    Response limited = client.authed("GET", "/v2/sandboxes", null);
    assertError(limited, 429, "Rate limit exceeded");
    assertThat(limited.header("Retry-After")).isEqualTo("1");
    assertThat(limited.header("RateLimit-Remaining")).isEqualTo("0");
  }

  @Test
  void evictorKillsAtEndTime() throws Exception {
    start(LIMITS);
    String id = create("{\"templateID\":\"base\",\"timeout\":1}");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> client.authed("GET", "/sandboxes/" + id, null).status() == 404);
    assertThat(node1.sandboxes).doesNotContainKey(id);
    assertThat(node2.sandboxes).doesNotContainKey(id);
    assertThat(api.store().sandbox(id).orElseThrow().endReason()).isEqualTo("timeout");
    // timeout 0 ends it now
    String id2 = create("{\"templateID\":\"base\",\"timeout\":60}");
    client.authed("POST", "/sandboxes/" + id2 + "/timeout", "{\"timeout\":0}");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> client.authed("GET", "/sandboxes/" + id2, null).status() == 404);
  }

  @Test
  void placementNextNodeAndNoNode() throws Exception {
    start(LIMITS);
    node1.createFailure.set(Status.RESOURCE_EXHAUSTED.withDescription("full"));
    String id = create("{\"templateID\":\"base\"}");
    assertThat(node2.sandboxes).containsKey(id);
    node2.createFailure.set(Status.RESOURCE_EXHAUSTED.withDescription("full"));
    Response full = client.authed("POST", "/sandboxes", "{\"templateID\":\"base\"}");
    assertError(full, 503, "Failed to place sandbox");
    assertThat(full.json().getString("error_code")).isEqualTo("sandbox_capacity_unavailable");
    node1.createFailure.set(Status.INTERNAL.withDescription("runc failed"));
    Response internal = client.authed("POST", "/sandboxes", "{\"templateID\":\"base\"}");
    assertThat(internal.status()).isIn(500, 503);

    // a node that dies takes its sandboxes out of listings; back, they return
    node1.createFailure.set(null);
    node2.createFailure.set(null);
    node2.down = true;
    api.checkNodes();
    assertError(client.authed("GET", "/sandboxes/" + id, null), 404, "Sandbox");
    assertThat(client.authed("GET", "/v2/sandboxes", null).array()).isEmpty();
    node1.down = true;
    api.checkNodes();
    Response none = client.authed("POST", "/sandboxes", "{\"templateID\":\"base\"}");
    assertError(none, 503, "Failed to place sandbox");
    assertThat(none.json().getString("error_code")).isEqualTo("sandbox_no_compatible_node");
    node2.down = false;
    api.checkNodes();
    assertThat(client.authed("GET", "/sandboxes/" + id, null).status()).isEqualTo(200);
    // a sandbox the node lost is reported gone
    node2.sandboxes.remove(id);
    api.checkNodes();
    assertError(client.authed("GET", "/sandboxes/" + id, null), 404, "Sandbox");
    assertThat(api.store().sandbox(id).orElseThrow().endReason())
        .isEqualTo("sandbox gone from its node");
  }

  @Test
  void nodesAreSeenOnlyOnceEachAnsweredACheck() throws Exception {
    start(LIMITS, true);
    assertThat(api.nodesSeen()).as("node2 missed the first check").isFalse();
    api.checkNodes();
    assertThat(api.nodesSeen()).isFalse();
    node2.templates = List.of("only-on-node2");
    node2.down = false;
    api.checkNodes();
    assertThat(api.nodesSeen()).isTrue();
    assertThat(api.store().template("only-on-node2")).as("registered by that check").isPresent();
    // seen once stays seen: a node going down later is a health matter, not start-up readiness
    node2.down = true;
    api.checkNodes();
    assertThat(api.nodesSeen()).isTrue();
  }

  @Test
  void templatesHealthAndOpenApi() throws Exception {
    start(LIMITS);
    node1.templates = List.of("base", "python");
    api.checkNodes();
    Response list = client.authed("GET", "/templates", null);
    assertThat(list.status()).isEqualTo(200);
    assertThat(list.array().stream().map(o -> ((JsonObject) o).getString("templateID")))
        .contains("base", "python");
    Response base = client.authed("GET", "/templates/base", null);
    assertThat(base.json().getJsonArray("builds").getJsonObject(0).getString("status"))
        .isEqualTo("ready");
    Response alias = client.authed("GET", "/templates/aliases/python", null);
    assertThat(alias.json().getString("templateID")).isEqualTo("python");
    assertThat(alias.json().getBoolean("public")).isTrue();
    assertError(
        client.authed("GET", "/templates/aliases/nope", null), 404, "template 'nope' not found");
    assertError(client.authed("GET", "/templates/nope", null), 404, "template 'nope' not found");
    // a template only node1 has goes to node1
    String id = create("{\"templateID\":\"python\"}");
    assertThat(node1.sandboxes).containsKey(id);

    Response health = client.call("GET", "/health", null);
    assertThat(health.status()).isEqualTo(200);
    assertThat(health.body()).isEqualTo("Health check successful");
    Response openApi = client.call("GET", "/openapi.yml", null);
    assertThat(openApi.status()).isEqualTo(200);
    assertThat(openApi.body()).startsWith("openapi: 3.0.0");
    for (String path :
        List.of(
            "/sandboxes:",
            "/v2/sandboxes:",
            "/sandboxes/{sandboxID}:",
            "/sandboxes/{sandboxID}/connect:",
            "/v2/sandboxes/{sandboxID}/connect:",
            "/sandboxes/{sandboxID}/timeout:",
            "/sandboxes/{sandboxID}/refreshes:",
            "/sandboxes/{sandboxID}/metrics:",
            "/sandboxes/{sandboxID}/logs:",
            "/v2/sandboxes/{sandboxID}/logs:",
            "/sandboxes/{sandboxID}/pause:",
            "/sandboxes/{sandboxID}/resume:",
            "/sandboxes/{sandboxID}/snapshots:",
            "/sandboxes/{sandboxID}/fork:",
            "/snapshots:",
            "/admin/sandboxes/{sandboxID}/auto-resume:",
            "/templates:",
            "/templates/{templateID}:",
            "/templates/aliases/{alias}:",
            "/health:",
            "/admin/teams:")) {
      assertThat(openApi.body()).as(path).contains("\n  " + path + "\n");
    }
  }
}
