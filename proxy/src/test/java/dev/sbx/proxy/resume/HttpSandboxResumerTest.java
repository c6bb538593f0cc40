package dev.sbx.proxy.resume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpServer;
import dev.sbx.proxy.catalog.CatalogEntry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The cluster proxy's resumer against a stand-in API server (JDK HttpServer on port 0). */
class HttpSandboxResumerTest {

  @Test
  void asksTheApiWithTheAdminTokenAndReadsTheRoute() throws Exception {
    AtomicReference<String> seen = new AtomicReference<>("");
    HttpServer api = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    api.createContext(
        "/",
        exchange -> {
          String body =
              new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          seen.set(
              exchange.getRequestMethod()
                  + " "
                  + exchange.getRequestURI()
                  + " "
                  + exchange.getRequestHeaders().getFirst("X-Admin-Token")
                  + " "
                  + body);
          byte[] answer =
              ("{\"sandboxID\":\"abc1\",\"nodeID\":\"n1\",\"nodeProxyHost\":\"10.0.0.9\","
                      + "\"nodeProxyPort\":5007,\"trafficAccessToken\":null,"
                      + "\"envdAccessToken\":\"e1\"}")
                  .getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, answer.length);
          exchange.getResponseBody().write(answer);
          exchange.close();
        });
    api.start();
    try {
      HttpSandboxResumer resumer =
          new HttpSandboxResumer(
              URI.create("http://127.0.0.1:" + api.getAddress().getPort() + "/"),
              "admin-1",
              Duration.ofSeconds(10));
      ResumeResult result =
          resumer
              .resume(new ResumeRequest("abc1", 49983, null, "e1"))
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS);
      assertThat(result.outcome()).isEqualTo(ResumeResult.Outcome.RESUMED);
      assertThat(result.route())
          .isEqualTo(
              new CatalogEntry(
                  "abc1", "n1", "10.0.0.9", 5007, null, CatalogEntry.RouteState.RUNNING, "e1"));
      String[] parts = seen.get().split(" ", 4);
      assertThat(parts[0]).isEqualTo("POST");
      assertThat(parts[1]).isEqualTo("/admin/sandboxes/abc1/auto-resume");
      assertThat(parts[2]).isEqualTo("admin-1");
      JsonObject sent = JsonParser.parseString(parts[3]).getAsJsonObject();
      assertThat(sent.get("port").getAsInt()).isEqualTo(49983);
      assertThat(sent.get("envdAccessToken").getAsString()).isEqualTo("e1");
      assertThat(sent.has("trafficAccessToken")).isFalse();
    } finally {
      api.stop(0);
    }
  }

  @Test
  void mapsTheApiAnswers() {
    assertThat(HttpSandboxResumer.result(404, "{\"code\":404,\"message\":\"gone\"}").outcome())
        .isEqualTo(ResumeResult.Outcome.NOT_FOUND);
    assertThat(HttpSandboxResumer.result(403, "{}").outcome())
        .isEqualTo(ResumeResult.Outcome.FORBIDDEN);
    assertThat(HttpSandboxResumer.result(409, "").outcome())
        .isEqualTo(ResumeResult.Outcome.TRANSITIONING);
    ResumeResult limit = HttpSandboxResumer.result(429, "{\"code\":429,\"message\":\"limit 5\"}");
    assertThat(limit.outcome()).isEqualTo(ResumeResult.Outcome.LIMIT_REACHED);
    assertThat(limit.message()).isEqualTo("limit 5");
    ResumeResult failed = HttpSandboxResumer.result(500, "not json");
    assertThat(failed.outcome()).isEqualTo(ResumeResult.Outcome.FAILED);
    assertThat(failed.message()).isEqualTo("Resuming failed: the API answered 500");
    assertThat(HttpSandboxResumer.result(200, "{\"sandboxID\":\"a\"}").outcome())
        .isEqualTo(ResumeResult.Outcome.FAILED);
    assertThat(HttpSandboxResumer.result(200, "[]").message()).isEqualTo("the API sent no route");
  }

  @Test
  void rejectsANonHttpUrl() {
    assertThatThrownBy(
            () -> new HttpSandboxResumer(URI.create("ftp://x"), "t", Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
