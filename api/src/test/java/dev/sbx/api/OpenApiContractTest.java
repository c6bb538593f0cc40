package dev.sbx.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.atlassian.oai.validator.OpenApiInteractionValidator;
import com.atlassian.oai.validator.model.Request;
import com.atlassian.oai.validator.model.SimpleRequest;
import com.atlassian.oai.validator.model.SimpleResponse;
import com.atlassian.oai.validator.report.LevelResolver;
import com.atlassian.oai.validator.report.ValidationReport;
import dev.sbx.api.ApiTestClient.Response;
import dev.sbx.api.node.NodeAddress;
import dev.sbx.api.store.TeamLimits;
import dev.sbx.proxy.catalog.InMemoryCatalog;
import io.grpc.Status;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.parser.OpenAPIV3Parser;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API's contract: real answers of a real {@link ApiServer} (SQLite, two fake orchestrators)
 * checked against the {@code openapi.yml} it serves by Atlassian's OpenAPI validator: every status,
 * declared header, JSON body and error body, with additional properties forbidden (the document
 * says exactly what sbx sends). Requests the test sends as valid are validated too. Every operation
 * and every documented status must be exercised, except the ones listed in {@link #UNREACHABLE}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@SuppressWarnings("NullAway") // fields set in @BeforeAll
class OpenApiContractTest {
  private static final TeamLimits LIMITS = new TeamLimits(3, 1, 8, 8192, 1000, 1000);

  /** Documented answers this test cannot provoke, with the reason. */
  private static final Set<String> UNREACHABLE =
      Set.of(
          // the store would have to fail
          "GET /health 503",
          // only a team's own templates answer 403 to another team, and no team owns a template
          // until template builds exist
          "GET /templates/aliases/{alias} 403",
          // a rate limit of 1000/s is not reached by this test; ApiServerTest covers 429 per key
          // on one endpoint, and the same code answers it on every authenticated endpoint
          "* * 429 rate");

  private final HttpClient http = HttpClient.newHttpClient();
  private FakeOrchestrator node1;
  private FakeOrchestrator node2;
  private ApiServer api;
  private String key;
  private ApiTestClient client;
  private String spec;
  private OpenAPI openApi;
  private OpenApiInteractionValidator validator;
  private final Set<String> seen = new TreeSet<>();
  private final List<String> violations = new ArrayList<>();

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    node1 = new FakeOrchestrator("contract1-" + System.nanoTime());
    node2 = new FakeOrchestrator("contract2-" + System.nanoTime());
    List<NodeAddress> nodes =
        List.of(
            new NodeAddress("node1", node1.name, "127.0.0.1", node1.proxyPort()),
            new NodeAddress("node2", node2.name, "127.0.0.1", node2.proxyPort()));
    ApiConfig config =
        ApiConfig.defaults(dir, nodes, "0123456789abcdef0123".getBytes(StandardCharsets.UTF_8))
            .withPort(0)
            .withAdminToken("admin-secret")
            .withFirstTeamLimits(LIMITS)
            .withIntervals(Duration.ofHours(1), Duration.ofHours(1))
            .withChannels(a -> (a.id().equals("node1") ? node1 : node2).channel());
    api = ApiServer.start(config, new InMemoryCatalog());
    key = api.firstApiKey().orElseThrow();
    client = new ApiTestClient(api.port(), key);
    // the document under test is the one the server publishes
    Response published = client.call("GET", "/openapi.yml", null);
    assertThat(published.status()).isEqualTo(200);
    spec = published.body();
    openApi = new OpenAPIV3Parser().readContents(spec).getOpenAPI();
    assertThat(openApi).as("openapi.yml parses").isNotNull();
    validator =
        OpenApiInteractionValidator.createForInlineApiSpecification(spec)
            .withLevelResolver(
                LevelResolver.create()
                    .withLevel(
                        "validation.schema.additionalProperties", ValidationReport.Level.ERROR)
                    .withLevel("validation.response.body.unexpected", ValidationReport.Level.ERROR)
                    .build())
            .withResolveCombinators(true)
            .build();
  }

  @AfterAll
  void stop() throws Exception {
    if (api != null) {
      api.close();
    }
    node1.close();
    node2.close();
  }

  private String base() {
    return "http://127.0.0.1:" + api.port();
  }

  /**
   * Sends a request, validates the answer against the document (and the request too when {@code
   * validRequest}), and records the operation and status as seen.
   */
  private Response exchange(
      boolean validRequest,
      String method,
      String pathAndQuery,
      @Nullable String body,
      String... headers)
      throws Exception {
    Response answered = client.call(method, pathAndQuery, body, headers);
    HttpResponse<String> response = answered.raw();

    int q = pathAndQuery.indexOf('?');
    String path = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
    SimpleRequest.Builder request = new SimpleRequest.Builder(method, path);
    if (q >= 0) {
      for (String pair : pathAndQuery.substring(q + 1).split("&")) {
        int eq = pair.indexOf('=');
        String name =
            URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
        String value =
            eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
        request.withQueryParam(name, value);
      }
    }
    for (int i = 0; i < headers.length; i += 2) {
      request.withHeader(headers[i], headers[i + 1]);
    }
    if (body != null) {
      request.withContentType("application/json").withBody(body);
    }
    SimpleResponse.Builder answer = new SimpleResponse.Builder(response.statusCode());
    response.headers().map().forEach(answer::withHeader);
    if (!response.body().isEmpty()) {
      answer.withBody(response.body());
    }
    Request built = request.build();
    ValidationReport report =
        validRequest
            ? validator.validate(built, answer.build())
            : validator.validateResponse(path, built.getMethod(), answer.build());
    String where = method + " " + pathAndQuery + " -> " + response.statusCode();
    if (report.hasErrors()) {
      violations.add(where + "\n" + report.getMessages() + "\n  body: " + response.body());
    }
    String operation = operation(method, path);
    if (operation == null) {
      violations.add(where + ": no operation of openapi.yml matches");
    } else {
      seen.add(operation + " " + response.statusCode());
    }
    return answered;
  }

  private Response ok(String method, String path, @Nullable String body) throws Exception {
    return exchange(true, method, path, body, "X-API-Key", key);
  }

  private Response bad(String method, String path, @Nullable String body) throws Exception {
    return exchange(false, method, path, body, "X-API-Key", key);
  }

  /** "GET /sandboxes/{sandboxID}" for a concrete path, or null. */
  private @Nullable String operation(String method, String path) {
    String best = null;
    int bestLiterals = -1;
    for (Map.Entry<String, PathItem> e : openApi.getPaths().entrySet()) {
      PathItem.HttpMethod m = PathItem.HttpMethod.valueOf(method);
      if (!e.getValue().readOperationsMap().containsKey(m)) {
        continue;
      }
      String template = e.getKey();
      Pattern regex = Pattern.compile(template.replaceAll("\\{[^}]+}", "[^/]+"));
      if (regex.matcher(path).matches()) {
        int literals = template.replaceAll("\\{[^}]+}", "").length();
        if (literals > bestLiterals) {
          best = method + " " + template;
          bestLiterals = literals;
        }
      }
    }
    return best;
  }

  private String create(String body) throws Exception {
    Response a = ok("POST", "/sandboxes", body);
    assertThat(a.status()).as(a.body()).isEqualTo(201);
    return a.json().getString("sandboxID");
  }

  @Test
  @Order(0)
  void theValidatorRejectsWhatTheDocumentDoesNotAllow() {
    String path = "/sandboxes/" + "i" + "0".repeat(20);
    for (String body :
        List.of(
            "{\"code\":404}",
            "{\"code\":404,\"message\":\"x\",\"extra\":1}",
            "{\"code\":\"404\",\"message\":\"x\"}")) {
      assertThat(
              validator
                  .validateResponse(
                      path,
                      Request.Method.GET,
                      SimpleResponse.Builder.status(404)
                          .withContentType("application/json")
                          .withBody(body)
                          .build())
                  .hasErrors())
          .as(body)
          .isTrue();
    }
    assertThat(
            validator
                .validateResponse(
                    path,
                    Request.Method.GET,
                    SimpleResponse.Builder.status(418)
                        .withContentType("application/json")
                        .withBody("{\"code\":418,\"message\":\"x\"}")
                        .build())
                .hasErrors())
        .as("an undocumented status")
        .isTrue();
  }

  @Test
  @Order(1)
  void publicEndpoints() throws Exception {
    assertThat(exchange(true, "GET", "/health", null).status()).isEqualTo(200);
    assertThat(exchange(true, "GET", "/openapi.yml", null).status()).isEqualTo(200);
  }

  @Test
  @Order(2)
  void sandboxLifecycle() throws Exception {
    String v1 =
        create(
            "{\"templateID\":\"base\",\"timeout\":120,\"metadata\":{\"user\":\"alice\"},"
                + "\"envVars\":{\"A\":\"b\"},\"allow_internet_access\":false}");
    Response v2 =
        ok(
            "POST",
            "/v2/sandboxes",
            "{\"templateID\":\"base\",\"network\":{\"allowPublicTraffic\":false,"
                + "\"denyOut\":[\"0.0.0.0/0\"]}}");
    assertThat(v2.status()).as(v2.body()).isEqualTo(201);
    String secure = v2.json().getString("sandboxID");

    assertThat(ok("GET", "/sandboxes", null).status()).isEqualTo(200);
    assertThat(ok("GET", "/sandboxes?metadata=user%3Dalice", null).status()).isEqualTo(200);
    Response page = ok("GET", "/v2/sandboxes?limit=1&state=running&order=asc", null);
    assertThat(page.status()).isEqualTo(200);
    assertThat(page.raw().headers().firstValue("X-Next-Token")).isPresent();
    assertThat(
            ok(
                    "GET",
                    "/v2/sandboxes?nextToken="
                        + page.raw().headers().firstValue("X-Next-Token").orElseThrow()
                        + "&order=asc&template=base&startedAfter=2020-01-01T00:00:00Z",
                    null)
                .status())
        .isEqualTo(200);

    assertThat(ok("GET", "/sandboxes/" + v1, null).status()).isEqualTo(200);
    assertThat(ok("GET", "/sandboxes/" + secure + "-6532622b", null).status()).isEqualTo(200);
    assertThat(ok("POST", "/sandboxes/" + v1 + "/connect", "{\"timeout\":60}").status())
        .isEqualTo(200);
    assertThat(ok("POST", "/v2/sandboxes/" + v1 + "/connect", "{}").status()).isEqualTo(200);
    assertThat(ok("POST", "/sandboxes/" + v1 + "/timeout", "{\"timeout\":300}").status())
        .isEqualTo(204);
    assertThat(ok("POST", "/sandboxes/" + v1 + "/refreshes", "{\"duration\":30}").status())
        .isEqualTo(204);
    assertThat(ok("GET", "/sandboxes/" + v1 + "/metrics", null).status()).isEqualTo(200);
    assertThat(ok("GET", "/sandboxes/" + secure + "/metrics?start=0", null).status())
        .isEqualTo(200);
    assertThat(ok("GET", "/sandboxes/" + v1 + "/logs?start=0&limit=10", null).status())
        .isEqualTo(200);
    assertThat(
            ok("GET", "/v2/sandboxes/" + v1 + "/logs?direction=backward&limit=5&level=info", null)
                .status())
        .isEqualTo(200);
    assertThat(bad("POST", "/sandboxes/" + v1 + "/pause", null).status()).isIn(204, 400, 409);
    assertThat(bad("POST", "/sandboxes/" + secure + "/resume", "{}").status()).isIn(201, 409);

    assertThat(ok("DELETE", "/sandboxes/" + v1, null).status()).isEqualTo(204);
    assertThat(ok("DELETE", "/sandboxes/" + secure, null).status()).isEqualTo(204);
    // a killed sandbox keeps its log
    assertThat(ok("GET", "/v2/sandboxes/" + v1 + "/logs", null).status()).isEqualTo(200);
  }

  @Test
  @Order(3)
  void sandboxErrors() throws Exception {
    String gone = "i" + "0".repeat(20);
    for (String[] call :
        new String[][] {
          {"GET", "/sandboxes/" + gone, null},
          {"DELETE", "/sandboxes/" + gone, null},
          {"POST", "/sandboxes/" + gone + "/connect", "{\"timeout\":10}"},
          {"POST", "/v2/sandboxes/" + gone + "/connect", "{\"timeout\":10}"},
          {"POST", "/sandboxes/" + gone + "/timeout", "{\"timeout\":10}"},
          {"POST", "/sandboxes/" + gone + "/refreshes", "{}"},
          {"GET", "/sandboxes/" + gone + "/metrics", null},
          {"GET", "/sandboxes/" + gone + "/logs", null},
          {"GET", "/v2/sandboxes/" + gone + "/logs", null},
          {"POST", "/sandboxes/" + gone + "/pause", null},
          {"POST", "/sandboxes/" + gone + "/resume", "{}"},
        }) {
      assertThat(bad(call[0], call[1], call[2]).status()).as(call[1]).isEqualTo(404);
    }
    // invalid ids and bad bodies or parameters: 400 on every sandbox endpoint
    for (String[] call :
        new String[][] {
          {"GET", "/sandboxes/BAD", null},
          {"DELETE", "/sandboxes/BAD", null},
          {"POST", "/sandboxes/abc/connect", "{}"},
          {"POST", "/v2/sandboxes/abc/connect", "{\"timeout\":-1}"},
          {"POST", "/sandboxes/abc/timeout", "{}"},
          {"POST", "/sandboxes/abc/refreshes", "{\"duration\":4000}"},
          {"GET", "/sandboxes/abc/metrics?start=x", null},
          {"GET", "/sandboxes/abc/logs?limit=x", null},
          {"GET", "/v2/sandboxes/abc/logs?direction=up", null},
          {"POST", "/sandboxes/BAD/pause", null},
          {"POST", "/sandboxes/BAD/resume", "{}"},
          {"POST", "/sandboxes", "{not json"},
          {"POST", "/v2/sandboxes", "{\"templateID\":5}"},
          {"GET", "/sandboxes?metadata=a", null},
          {"GET", "/v2/sandboxes?limit=0", null},
        }) {
      assertThat(bad(call[0], call[1], call[2]).status()).as(call[1]).isEqualTo(400);
    }
    assertThat(bad("POST", "/sandboxes", "{\"templateID\":\"nope\"}").status()).isEqualTo(404);
    assertThat(bad("POST", "/v2/sandboxes", "{\"templateID\":\"nope\"}").status()).isEqualTo(404);
    String huge = "{\"templateID\":\"base\",\"metadata\":{\"a\":\"" + "x".repeat(2 << 20) + "\"}}";
    assertThat(bad("POST", "/sandboxes", huge).status()).isEqualTo(413);
    assertThat(bad("POST", "/v2/sandboxes", huge).status()).isEqualTo(413);

    // the concurrency limit (3)
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ids.add(create("{\"templateID\":\"base\"}"));
    }
    assertThat(bad("POST", "/sandboxes", "{\"templateID\":\"base\"}").status()).isEqualTo(429);
    assertThat(bad("POST", "/v2/sandboxes", "{\"templateID\":\"base\"}").status()).isEqualTo(429);
    // envd's metrics failing: 502
    node1.metricsStatus = 500;
    node2.metricsStatus = 500;
    assertThat(bad("GET", "/sandboxes/" + ids.get(0) + "/metrics", null).status()).isEqualTo(502);
    node1.metricsStatus = 200;
    node2.metricsStatus = 200;
    for (String id : ids) {
      ok("DELETE", "/sandboxes/" + id, null);
    }

    // nodes failing: 503 (no capacity, no node) and 500 (the node failed otherwise)
    node1.createFailure.set(Status.RESOURCE_EXHAUSTED.withDescription("full"));
    node2.createFailure.set(Status.RESOURCE_EXHAUSTED.withDescription("full"));
    assertThat(bad("POST", "/sandboxes", "{\"templateID\":\"base\"}").status()).isEqualTo(503);
    assertThat(bad("POST", "/v2/sandboxes", "{\"templateID\":\"base\"}").status()).isEqualTo(503);
    node1.createFailure.set(Status.INTERNAL.withDescription("runc failed"));
    node2.createFailure.set(Status.INTERNAL.withDescription("runc failed"));
    assertThat(bad("POST", "/sandboxes", "{\"templateID\":\"base\"}").status()).isEqualTo(500);
    assertThat(bad("POST", "/v2/sandboxes", "{\"templateID\":\"base\"}").status()).isEqualTo(500);
    node1.createFailure.set(null);
    node2.createFailure.set(null);
  }

  @Test
  @Order(4)
  void authErrors() throws Exception {
    String id = "i" + "0".repeat(20);
    for (String[] call :
        new String[][] {
          {"POST", "/sandboxes", "{\"templateID\":\"base\"}"},
          {"GET", "/sandboxes", null},
          {"POST", "/v2/sandboxes", "{\"templateID\":\"base\"}"},
          {"GET", "/v2/sandboxes", null},
          {"GET", "/sandboxes/" + id, null},
          {"DELETE", "/sandboxes/" + id, null},
          {"POST", "/sandboxes/" + id + "/connect", "{\"timeout\":1}"},
          {"POST", "/v2/sandboxes/" + id + "/connect", "{}"},
          {"POST", "/sandboxes/" + id + "/timeout", "{\"timeout\":1}"},
          {"POST", "/sandboxes/" + id + "/refreshes", "{}"},
          {"GET", "/sandboxes/" + id + "/metrics", null},
          {"GET", "/sandboxes/" + id + "/logs", null},
          {"GET", "/v2/sandboxes/" + id + "/logs", null},
          {"POST", "/sandboxes/" + id + "/pause", null},
          {"POST", "/sandboxes/" + id + "/resume", "{}"},
          {"GET", "/templates", null},
          {"GET", "/templates/base", null},
          {"GET", "/templates/aliases/base", null},
        }) {
      assertThat(exchange(false, call[0], call[1], call[2]).status()).as(call[1]).isEqualTo(401);
      assertThat(exchange(false, call[0], call[1], call[2], "X-API-Key", "e2b_nope").status())
          .as(call[1])
          .isEqualTo(401);
    }
  }

  @Test
  @Order(5)
  void templates() throws Exception {
    assertThat(ok("GET", "/templates", null).status()).isEqualTo(200);
    assertThat(ok("GET", "/templates/base", null).status()).isEqualTo(200);
    assertThat(bad("GET", "/templates/nope", null).status()).isEqualTo(404);
    assertThat(ok("GET", "/templates/aliases/base", null).status()).isEqualTo(200);
    assertThat(bad("GET", "/templates/aliases/nope", null).status()).isEqualTo(404);
  }

  @Test
  @Order(6)
  void adminEndpoints() throws Exception {
    String[] admin = {"X-Admin-Token", "admin-secret"};
    Response team = exchange(true, "POST", "/admin/teams", "{\"name\":\"Contract\"}", admin);
    assertThat(team.status()).as(team.body()).isEqualTo(201);
    String teamId = team.json().getString("teamID");
    assertThat(exchange(false, "POST", "/admin/teams", "{\"name\":\"x\"}").status()).isEqualTo(401);
    assertThat(exchange(false, "POST", "/admin/teams", "{\"name\":\"\"}", admin).status())
        .isEqualTo(400);
    String keys = "/admin/teams/" + teamId + "/api-keys";
    Response created = exchange(true, "POST", keys, "{\"name\":\"ci\"}", admin);
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    assertThat(exchange(false, "POST", keys, "{\"name\":7}", admin).status()).isEqualTo(400);
    assertThat(exchange(false, "POST", keys, null).status()).isEqualTo(401);
    assertThat(exchange(false, "POST", "/admin/teams/nope/api-keys", null, admin).status())
        .isEqualTo(404);
    assertThat(exchange(true, "GET", keys, null, admin).status()).isEqualTo(200);
    assertThat(exchange(false, "GET", keys, null).status()).isEqualTo(401);
    assertThat(exchange(false, "GET", "/admin/teams/nope/api-keys", null, admin).status())
        .isEqualTo(404);
    String keyPath = keys + "/" + created.json().getString("id");
    assertThat(exchange(false, "DELETE", keyPath, null).status()).isEqualTo(401);
    assertThat(exchange(true, "DELETE", keyPath, null, admin).status()).isEqualTo(204);
    assertThat(exchange(false, "DELETE", keyPath + "x", null, admin).status()).isEqualTo(404);
    // the admin token acting as a team
    assertThat(
            exchange(
                    true,
                    "GET",
                    "/v2/sandboxes",
                    null,
                    "X-Admin-Token",
                    "admin-secret",
                    "X-Team-ID",
                    teamId)
                .status())
        .isEqualTo(200);
  }

  private void onBothNodes(java.util.function.Consumer<FakeOrchestrator> change) {
    change.accept(node1);
    change.accept(node2);
  }

  private Response autoResume(boolean validRequest, String id, String body, String token)
      throws Exception {
    return exchange(
        validRequest,
        "POST",
        "/admin/sandboxes/" + id + "/auto-resume",
        body,
        "X-Admin-Token",
        token);
  }

  @Test
  @Order(7)
  void pauseResumeSnapshotsForkAndAutoResume() throws Exception {
    String gone = "i" + "0".repeat(20);
    Response created =
        ok(
            "POST",
            "/sandboxes",
            "{\"templateID\":\"base\",\"timeout\":120,\"secure\":true,\"autoPause\":true,"
                + "\"autoResume\":{\"enabled\":true},\"network\":{\"allowPublicTraffic\":false}}");
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    String id = created.json().getString("sandboxID");
    String traffic = created.json().getString("trafficAccessToken");
    String sandbox = "/sandboxes/" + id;

    // the node has no room for a saved state, a snapshot or a fork checkpoint: 507
    onBothNodes(n -> n.pauseFailure.set(Status.RESOURCE_EXHAUSTED.withDescription("quota")));
    assertThat(bad("POST", sandbox + "/pause", null).status()).isEqualTo(507);
    onBothNodes(n -> n.pauseFailure.set(null));
    onBothNodes(n -> n.snapshotFailure.set(Status.RESOURCE_EXHAUSTED.withDescription("quota")));
    assertThat(bad("POST", sandbox + "/snapshots", null).status()).isEqualTo(507);
    onBothNodes(n -> n.snapshotFailure.set(Status.UNAVAILABLE.withDescription("gone")));
    assertThat(bad("POST", sandbox + "/snapshots", null).status()).isEqualTo(503);
    onBothNodes(n -> n.snapshotFailure.set(null));
    onBothNodes(n -> n.forkFailure.set(Status.RESOURCE_EXHAUSTED.withDescription("quota")));
    assertThat(bad("POST", sandbox + "/fork", "{\"count\":1}").status()).isEqualTo(507);
    onBothNodes(n -> n.forkFailure.set(Status.UNAVAILABLE.withDescription("gone")));
    assertThat(bad("POST", sandbox + "/fork", "{\"count\":1}").status()).isEqualTo(503);
    onBothNodes(n -> n.forkFailure.set(null));

    // snapshots
    Response named = ok("POST", sandbox + "/snapshots", "{\"name\":\"contract-snap\"}");
    assertThat(named.status()).as(named.body()).isEqualTo(201);
    String namedId = named.json().getString("snapshotID");
    Response unnamed = ok("POST", sandbox + "/snapshots", "{}");
    assertThat(unnamed.status()).as(unnamed.body()).isEqualTo(201);
    String unnamedId = unnamed.json().getString("snapshotID");
    assertThat(bad("POST", sandbox + "/snapshots", "{\"name\":\"a b\"}").status()).isEqualTo(400);
    assertThat(bad("POST", "/sandboxes/" + gone + "/snapshots", null).status()).isEqualTo(404);
    assertThat(exchange(false, "POST", sandbox + "/snapshots", null).status()).isEqualTo(401);
    Response listed = ok("GET", "/snapshots?limit=1", null);
    assertThat(listed.status()).isEqualTo(200);
    assertThat(listed.raw().headers().firstValue("X-Next-Token")).isPresent();
    assertThat(ok("GET", "/snapshots?sandboxID=" + id + "&name=contract-snap", null).status())
        .isEqualTo(200);
    assertThat(bad("GET", "/snapshots?limit=0", null).status()).isEqualTo(400);
    assertThat(exchange(false, "GET", "/snapshots", null).status()).isEqualTo(401);

    // fork
    Response forked = ok("POST", sandbox + "/fork", "{\"count\":1,\"timeout\":30}");
    assertThat(forked.status()).as(forked.body()).isEqualTo(201);
    String child =
        new io.vertx.core.json.JsonArray(forked.body())
            .getJsonObject(0)
            .getJsonObject("sandbox")
            .getString("sandboxID");
    assertThat(ok("DELETE", "/sandboxes/" + child, null).status()).isEqualTo(204);
    assertThat(bad("POST", sandbox + "/fork", "{\"count\":0}").status()).isEqualTo(400);
    assertThat(bad("POST", "/sandboxes/" + gone + "/fork", null).status()).isEqualTo(404);
    assertThat(exchange(false, "POST", sandbox + "/fork", null).status()).isEqualTo(401);

    // paused: pause again, snapshot and fork are 409
    assertThat(ok("POST", sandbox + "/pause", "{\"memory\":true}").status()).isEqualTo(204);
    assertThat(bad("POST", sandbox + "/pause", null).status()).isEqualTo(409);
    assertThat(bad("POST", sandbox + "/snapshots", null).status()).isEqualTo(409);
    assertThat(bad("POST", sandbox + "/fork", null).status()).isEqualTo(409);

    // auto-resume (the client proxy's call)
    String port8000 = "{\"port\":8000,\"trafficAccessToken\":\"" + traffic + "\"}";
    assertThat(autoResume(false, id, port8000, "wrong").status()).isEqualTo(401);
    assertThat(
            exchange(false, "POST", "/admin/sandboxes/" + id + "/auto-resume", port8000).status())
        .isEqualTo(401);
    assertThat(autoResume(true, id, "{\"port\":8000}", "admin-secret").status()).isEqualTo(403);
    assertThat(autoResume(false, id, "{}", "admin-secret").status()).isEqualTo(400);
    assertThat(autoResume(true, gone, "{\"port\":8000}", "admin-secret").status()).isEqualTo(404);
    onBothNodes(n -> n.resumeFailure.set(Status.INTERNAL.withDescription("restore failed")));
    assertThat(autoResume(true, id, port8000, "admin-secret").status()).isEqualTo(502);
    onBothNodes(n -> n.resumeFailure.set(null));
    Response routed = autoResume(true, id, port8000, "admin-secret");
    assertThat(routed.status()).as(routed.body()).isEqualTo(200);
    assertThat(routed.json().getString("sandboxID")).isEqualTo(id);

    // the deprecated resume
    assertThat(ok("POST", sandbox + "/pause", "{}").status()).isEqualTo(204);
    Response resumed = ok("POST", sandbox + "/resume", "{\"timeout\":60}");
    assertThat(resumed.status()).as(resumed.body()).isEqualTo(201);

    // auto-resume of a sandbox that is being paused (and may not be resumed by traffic): 409
    String plain = create("{\"templateID\":\"base\",\"timeout\":120}");
    java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
    onBothNodes(n -> n.transitionGate.set(gate));
    java.util.concurrent.CompletableFuture<HttpResponse<String>> pausing =
        http.sendAsync(
            HttpRequest.newBuilder(URI.create(base() + "/sandboxes/" + plain + "/pause"))
                .header("X-API-Key", key)
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    try {
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  api.store().sandbox(plain).orElseThrow().state()
                      == dev.sbx.api.store.SandboxState.PAUSING);
      assertThat(autoResume(true, plain, "{\"port\":8000}", "admin-secret").status())
          .isEqualTo(409);
    } finally {
      gate.countDown();
      onBothNodes(n -> n.transitionGate.set(null));
    }
    assertThat(pausing.get(30, java.util.concurrent.TimeUnit.SECONDS).statusCode()).isEqualTo(204);

    // deleting snapshots (the SDK: DELETE /templates/{snapshotID}, URL-encoded)
    String encoded = java.net.URLEncoder.encode(namedId, StandardCharsets.UTF_8);
    assertThat(exchange(false, "DELETE", "/templates/" + encoded, null).status()).isEqualTo(401);
    assertThat(ok("DELETE", "/templates/" + encoded, null).status()).isEqualTo(204);
    assertThat(bad("DELETE", "/templates/" + encoded, null).status()).isEqualTo(404);
    assertThat(ok("DELETE", "/templates/" + unnamedId, null).status()).isEqualTo(204);
    assertThat(bad("DELETE", "/templates/base", null).status()).isEqualTo(400);

    assertThat(ok("DELETE", sandbox, null).status()).isEqualTo(204);
    assertThat(ok("DELETE", "/sandboxes/" + plain, null).status()).isEqualTo(204);
  }

  @Test
  @Order(7)
  void adminNodes() throws Exception {
    String[] admin = {"X-Admin-Token", "admin-secret"};
    String body =
        "{\"id\":\"contract-reg\",\"grpcAddress\":\""
            + node2.name
            + ":5008\",\"proxyAddress\":\"127.0.0.1:"
            + node2.proxyPort()
            + "\"}";
    Response registered = exchange(true, "POST", "/admin/nodes", body, admin);
    assertThat(registered.status()).as(registered.body()).isEqualTo(201);
    assertThat(exchange(true, "POST", "/admin/nodes", body, admin).status()).isEqualTo(200);
    assertThat(exchange(false, "POST", "/admin/nodes", body).status()).isEqualTo(401);
    assertThat(
            exchange(false, "POST", "/admin/nodes", "{\"id\":\"x\",\"grpcAddress\":7}", admin)
                .status())
        .isEqualTo(400);
    String configured = body.replace("contract-reg", "node1");
    assertThat(exchange(true, "POST", "/admin/nodes", configured, admin).status()).isEqualTo(409);
    Response list = exchange(true, "GET", "/admin/nodes", null, admin);
    assertThat(list.status()).isEqualTo(200);
    assertThat(list.body()).contains("\"contract-reg\"", "\"registered\"", "\"configured\"");
    assertThat(exchange(false, "GET", "/admin/nodes", null).status()).isEqualTo(401);
  }

  @Test
  @Order(100)
  void everyAnswerMatchesTheDocumentAndEveryDocumentedAnswerWasSeen() {
    assertThat(violations).as("answers that break openapi.yml").isEmpty();
    Set<String> documented = new TreeSet<>();
    openApi
        .getPaths()
        .forEach(
            (path, item) ->
                item.readOperationsMap()
                    .forEach(
                        (method, op) ->
                            op.getResponses()
                                .keySet()
                                .forEach(
                                    status -> documented.add(method + " " + path + " " + status))));
    Set<String> missing = new TreeSet<>(documented);
    missing.removeAll(seen);
    missing.removeAll(UNREACHABLE);
    missing.removeIf(m -> m.endsWith(" 429") && UNREACHABLE.contains("* * 429 rate"));
    assertThat(missing).as("documented answers never provoked").isEmpty();
  }
}
