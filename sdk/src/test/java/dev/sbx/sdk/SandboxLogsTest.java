package dev.sbx.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link Sandbox#getLogs}: the v2 logs endpoint against the scripted {@link FakeApi}. */
class SandboxLogsTest {
  private FakeApi api;
  private ConnectionConfig config;

  @BeforeEach
  void start() throws Exception {
    api = new FakeApi();
    config =
        ConnectionConfig.builder()
            .environment(Map.of())
            .apiKey("e2b_key")
            .apiUrl(api.url())
            .build();
  }

  @AfterEach
  void stop() {
    api.close();
  }

  @Test
  void readsEntriesAndSendsTheQuery() {
    api.reply(
        200,
        """
        {"logs":[
          {"timestamp":"2026-01-02T03:04:05.123456Z","message":"sandbox created","level":"info",
           "fields":{"template":"base","n":3}},
          {"timestamp":"2026-01-02T03:04:06Z","message":"killed","level":"warn"}]}""");
    List<SandboxLogEntry> entries =
        Sandbox.getLogs(
            "isb1",
            SandboxLogQuery.builder()
                .cursor(Instant.ofEpochMilli(1767323045123L))
                .limit(10)
                .backward(true)
                .level("info")
                .search("a b&c")
                .build(),
            config);
    assertThat(api.only().method()).isEqualTo("GET");
    assertThat(api.only().pathAndQuery())
        .isEqualTo(
            "/v2/sandboxes/isb1/logs?cursor=1767323045123&limit=10&direction=backward"
                + "&level=info&search=a%20b%26c");
    assertThat(api.only().header("X-API-KEY")).isEqualTo("e2b_key");
    assertThat(entries)
        .containsExactly(
            new SandboxLogEntry(
                Instant.parse("2026-01-02T03:04:05.123456Z"),
                "info",
                "sandbox created",
                Map.of("template", "base", "n", "3")),
            new SandboxLogEntry(Instant.parse("2026-01-02T03:04:06Z"), "warn", "killed", Map.of()));
  }

  @Test
  void defaultQueryHasNoParametersAndErrorsAreTyped() {
    api.reply(200, "{\"logs\":[]}");
    assertThat(Sandbox.getLogs("isb1", SandboxLogQuery.all(), config)).isEmpty();
    assertThat(api.only().pathAndQuery()).isEqualTo("/v2/sandboxes/isb1/logs");

    api.reply(404, "{\"code\":404,\"message\":\"Sandbox \\\"x\\\" doesn't exist\"}");
    assertThatThrownBy(() -> Sandbox.getLogs("x", SandboxLogQuery.all(), config))
        .isInstanceOf(NotFoundException.class);
    api.reply(401, "{\"code\":401,\"message\":\"bad key\"}");
    assertThatThrownBy(() -> Sandbox.getLogs("x", SandboxLogQuery.all(), config))
        .isInstanceOf(AuthenticationException.class);
    api.reply(200, "{\"nologs\":1}");
    assertThatThrownBy(() -> Sandbox.getLogs("x", SandboxLogQuery.all(), config))
        .isExactlyInstanceOf(SandboxException.class)
        .hasMessageContaining("'logs'");
  }

  @Test
  void badQueriesAreRejectedBeforeAnyRequest() {
    assertThatThrownBy(() -> SandboxLogQuery.builder().limit(1001).build())
        .isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> SandboxLogQuery.builder().level("trace").build())
        .isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> SandboxLogQuery.builder().search("x".repeat(257)).build())
        .isInstanceOf(InvalidArgumentException.class);
    assertThat(api.requests()).isEmpty();
  }
}
