package dev.sbx.envd.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.sbx.envd.EnvdConfig;
import dev.sbx.envd.EnvdFixture;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EnvdHttpRoutesTest {
  private static final String UNAUTHORIZED =
      "{\"code\":401,\"message\":\"unauthorized access, please provide a valid access token or"
          + " method signing if supported\"}";

  @TempDir Path dir;
  private EnvdFixture envd;

  @BeforeEach
  void start() {
    envd =
        EnvdFixture.start(
            dir,
            context ->
                exchange -> {
                  byte[] body = ("rpc " + exchange.getRequestURI().getPath()).getBytes();
                  exchange.sendResponseHeaders(200, body.length);
                  try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                  }
                });
  }

  @AfterEach
  void stop() {
    envd.close();
  }

  private HttpResponse<String> get(String path, String... headers) {
    HttpRequest.Builder request = envd.request(path).GET();
    if (headers.length > 0) {
      request.headers(headers);
    }
    return envd.send(request.build());
  }

  @Test
  void healthIs204NoStoreWithAndWithoutAToken() {
    HttpResponse<String> open = get("/health");
    assertThat(open.statusCode()).isEqualTo(204);
    assertThat(open.headers().firstValue("Cache-Control")).hasValue("no-store");

    envd.init("{\"accessToken\":\"secret\"}", null);
    assertThat(get("/health").statusCode()).isEqualTo(204);
  }

  @Test
  void unknownPathIs404JsonAndWrongMethodIs405() {
    HttpResponse<String> missing = get("/nope");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(missing.headers().firstValue("Content-Type"))
        .hasValue("application/json; charset=utf-8");
    assertThat(JsonParser.parseString(missing.body()).getAsJsonObject().get("code").getAsInt())
        .isEqualTo(404);

    HttpResponse<String> wrongMethod =
        envd.send(envd.request("/envs").POST(BodyPublishers.noBody()).build());
    assertThat(wrongMethod.statusCode()).isEqualTo(405);
    assertThat(wrongMethod.headers().firstValue("Allow")).hasValue("GET");
  }

  @Test
  void accessTokenGuardsEveryRouteButTheOpenOnesAndTheRpcPathsToo() {
    assertThat(get("/envs").statusCode()).isEqualTo(200);
    envd.init("{\"accessToken\":\"secret\"}", null);

    HttpResponse<String> missing = get("/envs");
    assertThat(missing.statusCode()).isEqualTo(401);
    assertThat(missing.body()).isEqualTo(UNAUTHORIZED);
    assertThat(missing.headers().firstValue("Content-Type"))
        .hasValue("application/json; charset=utf-8");
    assertThat(get("/envs", "X-Access-Token", "wrong").statusCode()).isEqualTo(401);
    assertThat(get("/envs", "X-Access-Token", "secret").statusCode()).isEqualTo(200);
    assertThat(get("/metrics").statusCode()).isEqualTo(401);
    assertThat(get("/nope").statusCode()).isEqualTo(401);

    HttpResponse<String> rpcDenied =
        envd.send(
            envd.request("/process.Process/List")
                .header("Content-Type", "application/json")
                .POST(BodyPublishers.ofString("{}"))
                .build());
    assertThat(rpcDenied.statusCode()).isEqualTo(401);
    assertThat(rpcDenied.body()).isEqualTo(UNAUTHORIZED);
    HttpResponse<String> rpc =
        envd.send(
            envd.request("/filesystem.Filesystem/Stat")
                .header("X-Access-Token", "secret")
                .POST(BodyPublishers.ofString("{}"))
                .build());
    assertThat(rpc.statusCode()).isEqualTo(200);
    assertThat(rpc.body()).isEqualTo("rpc /filesystem.Filesystem/Stat");
  }

  @Test
  void corsPreflightIsAnsweredWithoutTokenAndRepliesExposeHeaders() {
    envd.init("{\"accessToken\":\"secret\"}", null);
    HttpResponse<String> preflight =
        envd.send(
            envd.request("/process.Process/Start")
                .method("OPTIONS", BodyPublishers.noBody())
                .header("Origin", "https://app.example")
                .header("Access-Control-Request-Method", "post")
                .header("Access-Control-Request-Headers", "content-type,x-access-token")
                .build());
    assertThat(preflight.statusCode()).isEqualTo(204);
    assertThat(preflight.headers().firstValue("Access-Control-Allow-Origin")).hasValue("*");
    assertThat(preflight.headers().firstValue("Access-Control-Allow-Methods")).hasValue("POST");
    assertThat(preflight.headers().firstValue("Access-Control-Allow-Headers"))
        .hasValue("content-type,x-access-token");
    assertThat(preflight.headers().firstValue("Access-Control-Max-Age")).hasValue("7200");

    HttpResponse<String> actual =
        get("/envs", "Origin", "https://app.example", "X-Access-Token", "secret");
    assertThat(actual.statusCode()).isEqualTo(200);
    assertThat(actual.headers().firstValue("Access-Control-Allow-Origin")).hasValue("*");
    assertThat(actual.headers().firstValue("Access-Control-Expose-Headers").orElseThrow())
        .contains("Location", "Cache-Control", "X-Content-Type-Options", "Grpc-Status");
    assertThat(get("/envs", "X-Access-Token", "secret").headers().map())
        .doesNotContainKey("access-control-allow-origin");
  }

  @Test
  void rpcPathsAre404WithoutAnRpcHandler() {
    try (EnvdFixture plain = EnvdFixture.start(dir.resolve("plain"))) {
      HttpResponse<String> response =
          plain.send(
              plain.request("/process.Process/List").POST(BodyPublishers.ofString("{}")).build());
      assertThat(response.statusCode()).isEqualTo(404);
    }
  }

  @Test
  void envsShowTheBaseEnvironmentAndWhatInitAdded() {
    JsonObject before = JsonParser.parseString(get("/envs").body()).getAsJsonObject();
    assertThat(before.get("E2B_SANDBOX").getAsString()).isEqualTo("true");
    assertThat(before.get("E2B_SANDBOX_ID").getAsString()).isEqualTo("sbx-test");

    envd.init("{\"envVars\":{\"FOO\":\"bar\",\"E2B_TEMPLATE_ID\":\"tpl\"}}", null);
    HttpResponse<String> after = get("/envs");
    assertThat(after.headers().firstValue("Content-Type")).hasValue("application/json");
    JsonObject envs = JsonParser.parseString(after.body()).getAsJsonObject();
    assertThat(envs.get("FOO").getAsString()).isEqualTo("bar");
    assertThat(envs.get("E2B_TEMPLATE_ID").getAsString()).isEqualTo("tpl");
    assertThat(envs.get("E2B_SANDBOX").getAsString()).isEqualTo("true");
  }

  @Test
  void initRepliesWithTheVersionAndAppliesUserAndWorkdir() {
    HttpResponse<String> response =
        envd.send(
            envd.request("/init")
                .POST(
                    BodyPublishers.ofString(
                        "{\"defaultUser\":\"user\",\"defaultWorkdir\":\"/tmp\"}"))
                .build());
    assertThat(response.statusCode()).isEqualTo(204);
    assertThat(response.headers().firstValue("X-Envd-Version")).hasValue(EnvdConfig.VERSION);
    assertThat(envd.envd().context().settings().current().defaultUser()).isEqualTo("user");
    assertThat(envd.envd().context().settings().current().defaultWorkdir()).isEqualTo("/tmp");
  }

  @Test
  void anOlderInitChangesNothing() {
    Instant now = Instant.now();
    envd.init("{\"envVars\":{\"V\":\"new\"},\"timestamp\":\"" + now + "\"}", null);
    envd.init(
        "{\"envVars\":{\"V\":\"old\"},\"defaultUser\":\"user\",\"timestamp\":\""
            + now.minusSeconds(60)
            + "\"}",
        null);
    assertThat(JsonParser.parseString(get("/envs").body()).getAsJsonObject().get("V").getAsString())
        .isEqualTo("new");
    assertThat(envd.envd().context().settings().current().defaultUser()).isEqualTo("root");

    envd.init("{\"envVars\":{\"V\":\"newer\"},\"timestamp\":\"" + now.plusSeconds(1) + "\"}", null);
    assertThat(JsonParser.parseString(get("/envs").body()).getAsJsonObject().get("V").getAsString())
        .isEqualTo("newer");
  }

  @Test
  void malformedInitIs400Json() {
    for (String body :
        new String[] {
          "{not json",
          "[1,2]",
          "{\"envVars\":[]}",
          "{\"envVars\":{\"A\":1}}",
          "{\"timestamp\":\"yesterday\"}",
          "{\"accessToken\":5}",
          "{} {}"
        }) {
      HttpResponse<String> response =
          envd.send(envd.request("/init").POST(BodyPublishers.ofString(body)).build());
      assertThat(response.statusCode()).as(body).isEqualTo(400);
      JsonObject error = JsonParser.parseString(response.body()).getAsJsonObject();
      assertThat(error.get("code").getAsInt()).isEqualTo(400);
      assertThat(error.get("message").getAsString()).startsWith("malformed init body");
    }
    assertThat(get("/health").statusCode()).isEqualTo(204);
  }

  @Test
  void onceATokenIsSetInitNeedsItAndAnAbsentTokenClearsIt() {
    envd.init("{\"accessToken\":\"secret\"}", null);
    HttpResponse<String> denied =
        envd.send(
            envd.request("/init").POST(BodyPublishers.ofString("{\"accessToken\":\"x\"}")).build());
    assertThat(denied.statusCode()).isEqualTo(401);
    assertThat(denied.body()).isEqualTo(UNAUTHORIZED);

    envd.init("{\"accessToken\":\"secret\",\"envVars\":{\"A\":\"1\"}}", null); // body proves it
    envd.init("{\"accessToken\":\"rotated\"}", "secret"); // the header proves it
    assertThat(get("/envs", "X-Access-Token", "rotated").statusCode()).isEqualTo(200);
    assertThat(get("/envs", "X-Access-Token", "secret").statusCode()).isEqualTo(401);

    envd.init("{}", "rotated");
    assertThat(get("/envs").statusCode()).isEqualTo(200);
  }

  @Test
  void metricsAreMeasured() {
    get("/metrics");
    HttpResponse<String> response = get("/metrics");
    assertThat(response.statusCode()).isEqualTo(200);
    JsonObject metrics = JsonParser.parseString(response.body()).getAsJsonObject();
    assertThat(metrics.keySet())
        .containsExactlyInAnyOrder(
            "ts",
            "cpu_count",
            "cpu_used_pct",
            "mem_total",
            "mem_used",
            "mem_cache",
            "mem_total_mib",
            "mem_used_mib",
            "disk_used",
            "disk_total");
    assertThat(metrics.get("ts").getAsLong())
        .isBetween(Instant.now().getEpochSecond() - 5, Instant.now().getEpochSecond() + 1);
    assertThat(metrics.get("cpu_count").getAsInt()).isGreaterThanOrEqualTo(1);
    assertThat(metrics.get("cpu_used_pct").getAsDouble()).isBetween(0.0, 100.0);
    long memTotal = metrics.get("mem_total").getAsLong();
    assertThat(memTotal).isPositive();
    assertThat(metrics.get("mem_used").getAsLong()).isBetween(1L, memTotal);
    assertThat(metrics.get("mem_total_mib").getAsLong()).isEqualTo(memTotal / (1024 * 1024));
    long diskTotal = metrics.get("disk_total").getAsLong();
    assertThat(diskTotal).isPositive();
    assertThat(metrics.get("disk_used").getAsLong()).isBetween(1L, diskTotal);
  }

  @Test
  void envdsOwnLogIsServedNewestLastAndGuardedByTheToken() {
    envd.init("{\"envVars\":{\"A\":\"1\"}}", null);
    HttpResponse<String> logs = get("/_sbx/logs");
    assertThat(logs.statusCode()).isEqualTo(200);
    assertThat(logs.headers().firstValue("Cache-Control")).hasValue("no-store");
    var entries = JsonParser.parseString(logs.body()).getAsJsonObject().getAsJsonArray("logs");
    JsonObject last = entries.get(entries.size() - 1).getAsJsonObject();
    assertThat(last.get("message").getAsString()).startsWith("init: 1 env vars, access token none");
    assertThat(last.get("level").getAsString()).isEqualTo("info");
    assertThat(Instant.parse(last.get("timestamp").getAsString())).isBeforeOrEqualTo(Instant.now());

    HttpResponse<String> one = get("/_sbx/logs?limit=1");
    assertThat(JsonParser.parseString(one.body()).getAsJsonObject().getAsJsonArray("logs"))
        .hasSize(1);
    assertThat(get("/_sbx/logs?limit=0").statusCode()).isEqualTo(400);
    assertThat(get("/_sbx/logs?limit=x").statusCode()).isEqualTo(400);

    envd.init("{\"accessToken\":\"secret\"}", null);
    assertThat(get("/_sbx/logs").statusCode()).isEqualTo(401);
    assertThat(get("/_sbx/logs", "X-Access-Token", "secret").statusCode()).isEqualTo(200);
  }

  @Test
  void garbageOnTheWireDoesNotKillTheServer() throws IOException {
    for (String garbage :
        new String[] {
          "\u0000\u0001\u0002 nonsense\r\n\r\n",
          "GET\r\n\r\n",
          "POST /init HTTP/1.1\r\n" + "Host: x\r\nContent-Length: 100\r\n\r\n{"
        }) {
      try (Socket socket = new Socket("127.0.0.1", envd.envd().port())) {
        socket.setSoTimeout(5000);
        socket.getOutputStream().write(garbage.getBytes(StandardCharsets.ISO_8859_1));
        socket.shutdownOutput();
        InputStream in = socket.getInputStream();
        in.readAllBytes();
      } catch (java.net.SocketException e) {
        // the server may reset a connection it cannot parse
      }
    }
    assertThat(get("/health").statusCode()).isEqualTo(204);
  }
}
