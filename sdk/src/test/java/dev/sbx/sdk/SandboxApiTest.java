package dev.sbx.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonParser;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The SDK's REST calls against a scripted server: the exact requests (method, path, query, headers,
 * body) of E2B's JS SDK 2.51, E2B-shaped answers, and error statuses as typed exceptions.
 */
class SandboxApiTest {
  private static final String KEY = "e2b_0123456789abcdef0123456789abcdef01234567";
  private static final String CREATED =
      """
      {"sandboxID":"isb1234567890abcdef","templateID":"base","clientID":"local-client",
       "envdVersion":"0.6.4","envdAccessToken":"envd-token-123","trafficAccessToken":null,
       "domain":null}""";
  private static final String DETAIL =
      """
      {"templateID":"tpl1","alias":"base","sandboxID":"isb1","clientID":"6532622b",
       "startedAt":"2026-01-02T03:04:05.123456Z","endAt":"2026-01-02T03:09:05Z",
       "cpuCount":2,"memoryMB":512,"diskSizeMB":1024,"envdVersion":"0.6.4",
       "envdAccessToken":"tok","state":"paused","metadata":{"team":"a b"}}""";

  private FakeApi api;
  private ConnectionConfig config;

  @BeforeEach
  void start() throws Exception {
    api = new FakeApi();
    config =
        ConnectionConfig.builder()
            .environment(
                Map.of("E2B_API_KEY", KEY, "E2B_API_URL", api.url(), "E2B_DOMAIN", "sbx.test"))
            .build();
  }

  @AfterEach
  void stop() {
    api.close();
  }

  private static void assertJson(String actual, String expected) {
    assertThat(JsonParser.parseString(actual)).isEqualTo(JsonParser.parseString(expected));
  }

  @Test
  void createSendsOnlyTheTemplateByDefault() {
    api.reply(201, CREATED);
    Sandbox sandbox = Sandbox.create(SandboxOptions.builder().connection(config).build());
    FakeApi.Request request = api.only();
    assertThat(request.method()).isEqualTo("POST");
    assertThat(request.pathAndQuery()).isEqualTo("/v2/sandboxes");
    assertJson(request.body(), "{\"templateID\":\"base\"}");
    assertThat(request.header("X-API-KEY")).isEqualTo(KEY);
    assertThat(request.header("Content-Type")).isEqualTo("application/json");
    assertThat(request.header("User-Agent")).startsWith("sbx-java-sdk/");
    assertThat(request.header("lang")).isEqualTo("java");
    assertThat(sandbox.sandboxId()).isEqualTo("isb1234567890abcdef");
    assertThat(sandbox.envdAccessToken()).isEqualTo("envd-token-123");
    assertThat(sandbox.envdVersion()).isEqualTo("0.6.4");
    assertThat(sandbox.getHost(8080)).isEqualTo("8080-isb1234567890abcdef.sbx.test");
    assertThat(sandbox.toString()).contains("https://49983-isb1234567890abcdef.sbx.test");
    sandbox.disconnect();
  }

  @Test
  void createSendsEveryOptionThatWasSet() {
    api.reply(201, CREATED.replace("\"domain\":null", "\"domain\":\"custom.example\""));
    Sandbox sandbox =
        Sandbox.create(
            SandboxOptions.builder()
                .connection(config)
                .template("python:v1")
                .timeout(Duration.ofMillis(60_500))
                .metadata("owner", "me")
                .env("FOO", "bar")
                .secure(true)
                .allowInternetAccess(false)
                .build());
    assertJson(
        api.only().body(),
        """
        {"templateID":"python:v1","metadata":{"owner":"me"},"envVars":{"FOO":"bar"},
         "timeout":61,"secure":true,"allow_internet_access":false}""");
    assertThat(sandbox.sandboxDomain()).isEqualTo("custom.example");
    assertThat(sandbox.getHost(3000)).isEqualTo("3000-isb1234567890abcdef.custom.example");
    sandbox.disconnect();
  }

  @Test
  void apiKeyAndUrlsComeFromBuilderBeforeEnvironment() {
    api.reply(201, CREATED);
    ConnectionConfig explicit =
        ConnectionConfig.builder()
            .environment(Map.of("E2B_API_KEY", "e2b_env", "E2B_API_URL", "http://127.0.0.1:1"))
            .apiKey("e2b_explicit")
            .apiUrl(api.url() + "/")
            .apiHeader("Authorization", "Bearer x")
            .build();
    Sandbox.create(SandboxOptions.builder().connection(explicit).build()).disconnect();
    assertThat(api.only().header("X-API-KEY")).isEqualTo("e2b_explicit");
    assertThat(api.only().header("Authorization")).isEqualTo("Bearer x");
  }

  @Test
  void missingApiKeyFailsBeforeAnyRequest() {
    ConnectionConfig noKey =
        ConnectionConfig.builder().environment(Map.of("E2B_API_URL", api.url())).build();
    assertThatThrownBy(() -> Sandbox.create(SandboxOptions.builder().connection(noKey).build()))
        .isInstanceOf(AuthenticationException.class)
        .hasMessageContaining("E2B_API_KEY");
    assertThat(api.requests()).isEmpty();
  }

  @Test
  void createErrorsAreTyped() {
    api.reply(401, "{\"code\":401,\"message\":\"Invalid API key\"}");
    assertThatThrownBy(() -> Sandbox.create(SandboxOptions.builder().connection(config).build()))
        .isInstanceOf(AuthenticationException.class)
        .hasMessageContaining("Invalid API key");
    api.reply(429, "{\"code\":429,\"message\":\"you have reached the maximum\"}");
    assertThatThrownBy(() -> Sandbox.create(SandboxOptions.builder().connection(config).build()))
        .isInstanceOf(RateLimitException.class)
        .hasMessageContaining("maximum");
    api.reply(404, "{\"code\":404,\"message\":\"template 'nope' not found\"}");
    assertThatThrownBy(() -> Sandbox.create(SandboxOptions.builder().connection(config).build()))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining("template 'nope' not found");
    api.reply(503, "{\"code\":503,\"message\":\"no capacity\",\"error_code\":\"x\"}");
    assertThatThrownBy(() -> Sandbox.create(SandboxOptions.builder().connection(config).build()))
        .isExactlyInstanceOf(SandboxException.class)
        .hasMessage("503: no capacity");
    api.reply(500, "not json");
    assertThatThrownBy(() -> Sandbox.create(SandboxOptions.builder().connection(config).build()))
        .isExactlyInstanceOf(SandboxException.class)
        .hasMessage("500: not json");
  }

  @Test
  void rateLimitWithRetryAfterIsRetried() {
    api.reply(429, Map.of("Retry-After", "0"), "{\"code\":429,\"message\":\"slow down\"}");
    api.reply(201, CREATED);
    Sandbox.create(SandboxOptions.builder().connection(config).build()).disconnect();
    assertThat(api.requests()).hasSize(2);
    assertThat(api.requests().get(1).pathAndQuery()).isEqualTo("/v2/sandboxes");
  }

  @Test
  void rateLimitRetriesStopAfterTheConfiguredNumber() {
    ConnectionConfig oneRetry =
        ConnectionConfig.builder().apiKey(KEY).apiUrl(api.url()).retries(1).build();
    for (int i = 0; i < 3; i++) {
      api.reply(429, Map.of("Retry-After", "0"), "{\"code\":429,\"message\":\"slow down\"}");
    }
    assertThatThrownBy(() -> Sandbox.create(SandboxOptions.builder().connection(oneRetry).build()))
        .isInstanceOf(RateLimitException.class);
    assertThat(api.requests()).hasSize(2);
  }

  @Test
  void tooOldEnvdKillsTheSandboxAndFails() {
    api.reply(201, CREATED.replace("0.6.4", "0.0.9"));
    api.reply(204, "");
    assertThatThrownBy(() -> Sandbox.create(SandboxOptions.builder().connection(config).build()))
        .isInstanceOf(TemplateException.class)
        .hasMessageContaining("0.0.9");
    assertThat(api.requests().get(1).method()).isEqualTo("DELETE");
    assertThat(api.requests().get(1).pathAndQuery()).isEqualTo("/sandboxes/isb1234567890abcdef");
  }

  @Test
  void connectPostsAnEmptyBodyOrTheTimeout() {
    api.reply(200, CREATED);
    Sandbox.connect("isb1234567890abcdef", config).disconnect();
    FakeApi.Request first = api.only();
    assertThat(first.method()).isEqualTo("POST");
    assertThat(first.pathAndQuery()).isEqualTo("/v2/sandboxes/isb1234567890abcdef/connect");
    assertJson(first.body(), "{}");
    api.reply(201, CREATED);
    Sandbox.connect("isb1234567890abcdef", config, Duration.ofSeconds(60)).disconnect();
    assertJson(api.requests().get(1).body(), "{\"timeout\":60}");
  }

  @Test
  void connectToAMissingSandboxIsNotFound() {
    api.reply(404, "{\"code\":404,\"message\":\"Sandbox \\\"nope\\\" doesn't exist\"}");
    assertThatThrownBy(() -> Sandbox.connect("nope", config))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining("nope");
  }

  @Test
  void killIsDeleteAndFalseWhenMissing() {
    api.reply(204, "");
    assertThat(Sandbox.kill("isb1", config)).isTrue();
    assertThat(api.only().method()).isEqualTo("DELETE");
    assertThat(api.only().pathAndQuery()).isEqualTo("/sandboxes/isb1");
    assertThat(api.only().header("X-API-KEY")).isEqualTo(KEY);
    api.reply(404, "{\"code\":404,\"message\":\"not found\"}");
    assertThat(Sandbox.kill("isb1", config)).isFalse();
  }

  @Test
  void instanceMethodsUseTheSandboxId() {
    api.reply(201, CREATED);
    Sandbox sandbox = Sandbox.create(SandboxOptions.builder().connection(config).build());
    api.reply(204, "");
    sandbox.setTimeout(Duration.ofSeconds(60));
    api.reply(200, DETAIL);
    SandboxInfo info = sandbox.getInfo();
    api.reply(
        200,
        """
        [{"timestamp":"2026-01-02T03:04:05Z","timestampUnix":1767323045,"cpuCount":2,
          "cpuUsedPct":12.5,"memUsed":100,"memTotal":200,"memCache":5,"diskUsed":300,
          "diskTotal":400}]""");
    List<SandboxMetrics> metrics =
        sandbox.getMetrics(Instant.ofEpochSecond(1000), Instant.ofEpochSecond(2000));
    api.reply(204, "");
    sandbox.close();

    List<FakeApi.Request> requests = api.requests();
    assertThat(requests.get(1).method()).isEqualTo("POST");
    assertThat(requests.get(1).pathAndQuery()).isEqualTo("/sandboxes/isb1234567890abcdef/timeout");
    assertJson(requests.get(1).body(), "{\"timeout\":60}");
    assertThat(requests.get(2).method()).isEqualTo("GET");
    assertThat(requests.get(2).pathAndQuery()).isEqualTo("/sandboxes/isb1234567890abcdef");
    assertThat(requests.get(3).pathAndQuery())
        .isEqualTo("/sandboxes/isb1234567890abcdef/metrics?start=1000&end=2000");
    assertThat(requests.get(4).method()).isEqualTo("DELETE");
    assertThat(requests.get(4).pathAndQuery()).isEqualTo("/sandboxes/isb1234567890abcdef");

    assertThat(info)
        .isEqualTo(
            new SandboxInfo(
                "isb1",
                "tpl1",
                "base",
                Map.of("team", "a b"),
                Instant.parse("2026-01-02T03:04:05.123456Z"),
                Instant.parse("2026-01-02T03:09:05Z"),
                SandboxState.PAUSED,
                2,
                512,
                1024,
                "0.6.4"));
    assertThat(metrics)
        .containsExactly(
            new SandboxMetrics(Instant.ofEpochSecond(1767323045), 2, 12.5, 100, 200, 5, 300, 400));
  }

  @Test
  void lifecycleErrorsAreTyped() {
    api.reply(404, "{\"code\":404,\"message\":\"Sandbox \\\"x\\\" doesn't exist\"}");
    assertThatThrownBy(() -> Sandbox.getInfo("x", config)).isInstanceOf(NotFoundException.class);
    api.reply(404, "{\"code\":404,\"message\":\"Sandbox \\\"x\\\" doesn't exist\"}");
    assertThatThrownBy(() -> Sandbox.setTimeout("x", Duration.ofSeconds(5), config))
        .isInstanceOf(NotFoundException.class);
    api.reply(409, "{\"code\":409,\"message\":\"Sandbox \\\"x\\\" is being paused\"}");
    assertThatThrownBy(() -> Sandbox.setTimeout("x", Duration.ofSeconds(5), config))
        .isExactlyInstanceOf(SandboxException.class)
        .hasMessage("409: Sandbox \"x\" is being paused");
    api.reply(401, "{\"code\":401,\"message\":\"bad key\"}");
    assertThatThrownBy(() -> Sandbox.kill("x", config)).isInstanceOf(AuthenticationException.class);
  }

  @Test
  void listEncodesFiltersAndPagesWithTheNextToken() {
    String listed =
        "["
            + DETAIL.replace(",\n \"envdAccessToken\":\"tok\"", "").replace("paused", "running")
            + "]";
    api.reply(200, Map.of("X-Next-Token", "tok/en=="), listed);
    api.reply(200, "[]");
    SandboxPaginator paginator =
        Sandbox.list(
            SandboxQuery.builder()
                .metadata("team", "a b")
                .metadata("k&y", "v=1")
                .states(SandboxState.RUNNING, SandboxState.PAUSED)
                .limit(10)
                .build(),
            config);
    assertThat(paginator.hasNext()).isTrue();
    List<SandboxInfo> first = paginator.nextItems();
    assertThat(first).hasSize(1);
    assertThat(first.get(0).state()).isEqualTo(SandboxState.RUNNING);
    assertThat(paginator.hasNext()).isTrue();
    assertThat(paginator.nextToken()).isEqualTo("tok/en==");
    assertThat(paginator.nextItems()).isEmpty();
    assertThat(paginator.hasNext()).isFalse();
    assertThatThrownBy(paginator::nextItems).isInstanceOf(java.util.NoSuchElementException.class);

    // URLSearchParams("team=a+b&k%26y=v%3D1"), then encodeURIComponent of the whole
    assertThat(api.requests().get(0).pathAndQuery())
        .isEqualTo(
            "/v2/sandboxes?metadata=team%3Da%2Bb%26k%2526y%3Dv%253D1&state=running,paused&limit=10");
    assertThat(api.requests().get(1).pathAndQuery())
        .isEqualTo(
            "/v2/sandboxes?metadata=team%3Da%2Bb%26k%2526y%3Dv%253D1&state=running,paused&limit=10"
                + "&nextToken=tok%2Fen%3D%3D");
    assertThat(api.requests().get(0).method()).isEqualTo("GET");
  }

  @Test
  void listWithoutFiltersHasNoQuery() {
    api.reply(200, "[]");
    assertThat(Sandbox.list(SandboxQuery.all(), config).nextItems()).isEmpty();
    assertThat(api.only().pathAndQuery()).isEqualTo("/v2/sandboxes");
  }

  @Test
  void debugModeMakesNoApiCalls() {
    ConnectionConfig debug =
        ConnectionConfig.builder()
            .environment(Map.of("E2B_DEBUG", "TRUE", "E2B_API_KEY", KEY))
            .build();
    Sandbox sandbox = Sandbox.create(SandboxOptions.builder().connection(debug).build());
    assertThat(sandbox.sandboxId()).isEqualTo(Sandbox.DEBUG_SANDBOX_ID);
    assertThat(sandbox.envdVersion()).isEqualTo("99.99.99");
    assertThat(sandbox.getHost(8080)).isEqualTo("localhost:8080");
    assertThat(sandbox.getMetrics()).isEmpty();
    sandbox.setTimeout(Duration.ofSeconds(1));
    assertThat(sandbox.kill()).isTrue();
    assertThat(debug.apiUrl()).isEqualTo("http://localhost:3000");
    assertThat(sandbox.toString()).contains("http://localhost:49983");
    sandbox.close();
    assertThat(api.requests()).isEmpty();
  }

  @Test
  void envdUrlRules() {
    ConnectionConfig e2b = ConnectionConfig.builder().environment(Map.of()).build();
    assertThat(e2b.apiUrl()).isEqualTo("https://api.e2b.app");
    assertThat(e2b.envdUrl("abc", null)).isEqualTo("https://sandbox.e2b.app");
    assertThat(e2b.envdUrl("abc", "e2b-staging.dev")).isEqualTo("https://sandbox.e2b-staging.dev");
    assertThat(e2b.envdUrl("abc", "sbx.test")).isEqualTo("https://49983-abc.sbx.test");
    assertThat(e2b.fileUrlBase("abc", null)).isEqualTo("https://49983-abc.e2b.app");
    assertThat(e2b.host("abc", null, 80)).isEqualTo("80-abc.e2b.app");

    ConnectionConfig own =
        ConnectionConfig.builder()
            .environment(
                Map.of("E2B_DOMAIN", "sbx.test", "E2B_SANDBOX_URL", "http://127.0.0.1:3002/"))
            .build();
    assertThat(own.apiUrl()).isEqualTo("https://api.sbx.test");
    assertThat(own.envdUrl("abc", null)).isEqualTo("http://127.0.0.1:3002");
    assertThat(own.fileUrlBase("abc", null)).isEqualTo("http://127.0.0.1:3002");
    assertThat(own.host("abc", null, 80)).isEqualTo("80-abc.sbx.test");

    ConnectionConfig debug =
        ConnectionConfig.builder().environment(Map.of("E2B_DEBUG", "yes")).debug(true).build();
    assertThat(debug.envdUrl("abc", "sbx.test")).isEqualTo("http://localhost:49983");
    assertThat(ConnectionConfig.builder().environment(Map.of("E2B_DEBUG", "1")).build().debug())
        .isFalse();
    assertThatThrownBy(() -> ConnectionConfig.builder().apiUrl("ftp://x").build())
        .isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> e2b.host("abc", null, 0)).isInstanceOf(InvalidArgumentException.class);
  }

  @Test
  void envdRequestsCarryTheSandboxHeadersAndNotTheApiKey() {
    api.reply(201, CREATED);
    ConnectionConfig withSandboxUrl =
        ConnectionConfig.builder()
            .apiKey(KEY)
            .apiUrl(api.url())
            .sandboxUrl(api.url())
            .apiHeader("Authorization", "Bearer secret")
            .build();
    Sandbox sandbox = Sandbox.create(SandboxOptions.builder().connection(withSandboxUrl).build());
    api.reply(204, "");
    assertThat(sandbox.isRunning()).isTrue();
    api.reply(502, "{\"code\":502,\"message\":\"sandbox not found\"}");
    assertThat(sandbox.isRunning()).isFalse();
    api.reply(500, "{\"code\":500,\"message\":\"boom\"}");
    assertThatThrownBy(sandbox::isRunning).isExactlyInstanceOf(SandboxException.class);
    FakeApi.Request health = api.requests().get(1);
    assertThat(health.method()).isEqualTo("GET");
    assertThat(health.pathAndQuery()).isEqualTo("/health");
    assertThat(health.header("E2b-Sandbox-Id")).isEqualTo("isb1234567890abcdef");
    assertThat(health.header("E2b-Sandbox-Port")).isEqualTo("49983");
    assertThat(health.header("X-Access-Token")).isEqualTo("envd-token-123");
    assertThat(health.header("X-API-KEY")).isEqualTo("<absent>");
    assertThat(health.header("Authorization")).isEqualTo("<absent>");
    sandbox.disconnect();
  }
}
