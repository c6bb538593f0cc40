package dev.sbx.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonParser;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Pause, connect-to-resume, snapshots and fork against a scripted API: the requests of E2B's JS SDK
 * 2.51 and how the answers (409 on pause, per-child fork errors, 404) come back.
 */
class SandboxPersistenceTest {
  private static final String KEY = "e2b_0123456789abcdef0123456789abcdef01234567";

  private static String sandbox(String id, String token) {
    return "{\"sandboxID\":\""
        + id
        + "\",\"templateID\":\"base\",\"clientID\":\"6532622b\",\"envdVersion\":\"0.6.4\","
        + "\"envdAccessToken\":\""
        + token
        + "\",\"trafficAccessToken\":null,\"domain\":null}";
  }

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

  private Sandbox created() {
    api.reply(201, sandbox("isb1", "tok1"));
    Sandbox s = Sandbox.create(SandboxOptions.builder().connection(config).build());
    return s;
  }

  @Test
  void pauseIsTrueThenFalseWhenPausedAlreadyAndNotFoundThrows() {
    Sandbox s = created();
    api.reply(204, "");
    assertThat(s.pause()).isTrue();
    api.reply(409, "{\"code\":409,\"message\":\"Error pausing sandbox - already paused\"}");
    assertThat(s.pause(false)).isFalse();
    api.reply(404, "{\"code\":404,\"message\":\"Sandbox \\\"nope\\\" doesn't exist\"}");
    assertThatThrownBy(() -> Sandbox.pause("nope", config))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining("Sandbox nope not found");
    api.reply(507, "{\"code\":507,\"message\":\"no room for its saved state\"}");
    assertThatThrownBy(s::pause)
        .isExactlyInstanceOf(SandboxException.class)
        .hasMessage("507: no room for its saved state");

    List<FakeApi.Request> requests = api.requests();
    assertThat(requests.get(1).method()).isEqualTo("POST");
    assertThat(requests.get(1).pathAndQuery()).isEqualTo("/sandboxes/isb1/pause");
    assertJson(requests.get(1).body(), "{\"memory\":true}");
    assertJson(requests.get(2).body(), "{\"memory\":false}");
    assertThat(requests.get(3).pathAndQuery()).isEqualTo("/sandboxes/nope/pause");
    s.disconnect();
  }

  @Test
  void connectResumesThisSandboxInPlace() {
    Sandbox s = created();
    api.reply(201, sandbox("isb1", "tok1"));
    assertThat(s.connect(Duration.ofSeconds(90))).isSameAs(s);
    FakeApi.Request connect = api.requests().get(1);
    assertThat(connect.pathAndQuery()).isEqualTo("/v2/sandboxes/isb1/connect");
    assertJson(connect.body(), "{\"timeout\":90}");
    api.reply(404, "{\"code\":404,\"message\":\"gone\"}");
    assertThatThrownBy(() -> s.connect((Duration) null))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining("Paused sandbox isb1 not found");
    s.disconnect();
  }

  @Test
  void snapshotsAreCreatedListedAndDeleted() {
    Sandbox s = created();
    api.reply(
        201, "{\"snapshotID\":\"team/my-snap:default\",\"names\":[\"team/my-snap:default\"]}");
    SnapshotInfo named = s.createSnapshot("my-snap");
    assertThat(named)
        .isEqualTo(new SnapshotInfo("team/my-snap:default", List.of("team/my-snap:default")));
    api.reply(201, "{\"snapshotID\":\"abc:default\"}");
    assertThat(s.createSnapshot().names()).isEmpty();
    assertJson(api.requests().get(1).body(), "{\"name\":\"my-snap\"}");
    assertJson(api.requests().get(2).body(), "{}");
    assertThat(api.requests().get(2).pathAndQuery()).isEqualTo("/sandboxes/isb1/snapshots");

    api.reply(200, Map.of("X-Next-Token", "t2"), "[{\"snapshotID\":\"abc:default\",\"names\":[]}]");
    api.reply(
        200, "[{\"snapshotID\":\"team/my-snap:default\",\"names\":[\"team/my-snap:default\"]}]");
    SnapshotPaginator pages = Sandbox.listSnapshots("isb1", 1, config);
    assertThat(pages.nextItems())
        .extracting(SnapshotInfo::snapshotId)
        .containsExactly("abc:default");
    assertThat(pages.hasNext()).isTrue();
    assertThat(pages.nextItems())
        .extracting(SnapshotInfo::snapshotId)
        .containsExactly("team/my-snap:default");
    assertThat(pages.hasNext()).isFalse();
    assertThat(api.requests().get(3).pathAndQuery()).isEqualTo("/snapshots?sandboxID=isb1&limit=1");
    assertThat(api.requests().get(4).pathAndQuery())
        .isEqualTo("/snapshots?sandboxID=isb1&limit=1&nextToken=t2");

    api.reply(204, "");
    assertThat(Sandbox.deleteSnapshot("team/my-snap:default", config)).isTrue();
    assertThat(api.requests().get(5).method()).isEqualTo("DELETE");
    assertThat(api.requests().get(5).pathAndQuery())
        .isEqualTo("/templates/team%2Fmy-snap%3Adefault");
    api.reply(404, "{\"code\":404,\"message\":\"not found\"}");
    assertThat(Sandbox.deleteSnapshot("team/my-snap:default", config)).isFalse();
    s.disconnect();
  }

  @Test
  void forkGivesOneResultPerChild() {
    Sandbox s = created();
    api.reply(
        201,
        "["
            + "{\"sandbox\":"
            + sandbox("isb2", "tok2")
            + "},"
            + "{\"error\":{\"code\":429,\"message\":\"you have reached the maximum\"}},"
            + "{\"error\":{\"code\":503,\"message\":\"node full\"}}"
            + "]");
    List<ForkResult> results = s.fork(3, Duration.ofMinutes(2));
    assertJson(api.requests().get(1).body(), "{\"timeout\":120,\"count\":3}");
    assertThat(api.requests().get(1).pathAndQuery()).isEqualTo("/sandboxes/isb1/fork");
    assertThat(results).hasSize(3);
    Sandbox child = results.get(0).sandboxOrThrow();
    assertThat(child.sandboxId()).isEqualTo("isb2");
    assertThat(child.envdAccessToken()).isEqualTo("tok2");
    assertThat(results.get(1).error()).isInstanceOf(RateLimitException.class);
    assertThat(results.get(2).error()).isExactlyInstanceOf(SandboxException.class);
    assertThatThrownBy(() -> results.get(2).sandboxOrThrow()).hasMessage("503: node full");
    child.disconnect();

    assertThatThrownBy(() -> s.fork(0, null)).isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> s.fork(101, null)).isInstanceOf(InvalidArgumentException.class);
    api.reply(409, "{\"code\":409,\"message\":\"Sandbox isb1 is paused\"}");
    assertThatThrownBy(() -> s.fork(1, null)).hasMessage("409: Sandbox isb1 is paused");
    assertJson(api.requests().get(2).body(), "{\"count\":1}");
    s.disconnect();
  }
}
