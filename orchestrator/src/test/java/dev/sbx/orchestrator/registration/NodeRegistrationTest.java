package dev.sbx.orchestrator.registration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The registration client against a tiny loopback HTTP server standing in for the API. */
class NodeRegistrationTest {
  record Received(String method, String path, String token, String contentType, String body) {}

  private final List<Received> received = new CopyOnWriteArrayList<>();
  private final AtomicInteger status = new AtomicInteger(201);
  private HttpServer server;

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        exchange -> {
          String body =
              new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          received.add(
              new Received(
                  exchange.getRequestMethod(),
                  exchange.getRequestURI().getPath(),
                  String.valueOf(exchange.getRequestHeaders().getFirst("X-Admin-Token")),
                  String.valueOf(exchange.getRequestHeaders().getFirst("Content-Type")),
                  body));
          byte[] answer = "{\"code\":0,\"message\":\"x\"}".getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(status.get(), answer.length);
          exchange.getResponseBody().write(answer);
          exchange.close();
        });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private NodeRegistration.Settings settings(String api, Duration interval) {
    return new NodeRegistration.Settings(
        URI.create(api), "secret", "node-a", "10.0.0.5:5008", "10.0.0.5:5007", interval);
  }

  private String api() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  @Test
  void registersAtStartAndThenEveryIntervalUntilClosed() {
    try (NodeRegistration registration =
        NodeRegistration.start(settings(api() + "/", Duration.ofMillis(100)))) {
      await().atMost(Duration.ofSeconds(30)).until(() -> registration.successes() >= 3);
    }
    Received first = received.getFirst();
    assertThat(first.method()).isEqualTo("POST");
    assertThat(first.path()).isEqualTo("/admin/nodes");
    assertThat(first.token()).isEqualTo("secret");
    assertThat(first.contentType()).isEqualTo("application/json");
    JsonObject body = JsonParser.parseString(first.body()).getAsJsonObject();
    assertThat(body.get("id").getAsString()).isEqualTo("node-a");
    assertThat(body.get("grpcAddress").getAsString()).isEqualTo("10.0.0.5:5008");
    assertThat(body.get("proxyAddress").getAsString()).isEqualTo("10.0.0.5:5007");
    assertThat(body.keySet()).containsExactlyInAnyOrder("id", "grpcAddress", "proxyAddress");
    // closed: no more registrations
    int count = received.size();
    assertThat(count).isGreaterThanOrEqualTo(3);
    await()
        .pollDelay(Duration.ofMillis(500))
        .atMost(Duration.ofSeconds(5))
        .until(() -> received.size() == count);
  }

  @Test
  void failuresAreRetriedAndNeverFatal() {
    status.set(401);
    try (NodeRegistration registration =
        NodeRegistration.start(settings(api(), Duration.ofMillis(100)))) {
      await().atMost(Duration.ofSeconds(30)).until(() -> registration.failures() >= 2);
      assertThat(registration.successes()).isZero();
      status.set(200);
      await().atMost(Duration.ofSeconds(30)).until(() -> registration.successes() >= 1);
    }
  }

  @Test
  void anUnreachableApiIsRetriedToo() {
    server.stop(0);
    try (NodeRegistration registration =
        NodeRegistration.start(settings(api(), Duration.ofMillis(100)))) {
      await().atMost(Duration.ofSeconds(30)).until(() -> registration.failures() >= 2);
      assertThat(registration.successes()).isZero();
    }
  }

  @Test
  void settingsAreChecked() {
    assertThatThrownBy(() -> settings("ftp://api:3000", Duration.ofSeconds(5)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> settings("http://api:3000", Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
