package dev.sbx.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sbx.api.ApiTestClient.Response;
import dev.sbx.api.node.NodeAddress;
import dev.sbx.api.store.TeamLimits;
import dev.sbx.proxy.catalog.InMemoryCatalog;
import io.grpc.ManagedChannel;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nodes that register themselves ({@code POST /admin/nodes}) against a real ApiServer and fake
 * orchestrators: placement uses them, heartbeats keep them, a stopped heartbeat drops them with
 * their sandboxes, a changed address replaces the channel.
 */
@SuppressWarnings("NullAway") // fields set in start(), per test
class NodeRegistrationTest {
  private static final TeamLimits LIMITS = new TeamLimits(5, 1, 8, 8192, 1000, 1000);
  private static final String[] ADMIN = {"X-Admin-Token", "admin-secret"};
  private static final Duration TTL = Duration.ofMinutes(10);
  @TempDir Path dir;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final Map<String, FakeOrchestrator> fakes = new ConcurrentHashMap<>();
  private ApiServer api;
  private String key;
  private ApiTestClient client;

  /** Starts the API with {@code configured} as its only configured node (or none). */
  private void start(@Nullable FakeOrchestrator configured, Duration checkInterval, Duration ttl) {
    List<NodeAddress> nodes =
        configured == null
            ? List.of()
            : List.of(
                new NodeAddress(
                    "static", configured.name + ":5008", "127.0.0.1", configured.proxyPort()));
    ApiConfig config =
        ApiConfig.defaults(dir, nodes, "0123456789abcdef0123".getBytes(StandardCharsets.UTF_8))
            .withPort(0)
            .withAdminToken("admin-secret")
            .withFirstTeamLimits(LIMITS)
            .withIntervals(checkInterval, Duration.ofMillis(50))
            .withNodeTtl(ttl)
            .withChannels(this::channel);
    api = ApiServer.start(config, new InMemoryCatalog());
    key = api.firstApiKey().orElseThrow();
    client = new ApiTestClient(api.port(), key);
  }

  private ManagedChannel channel(NodeAddress address) {
    String target = address.grpcTarget();
    FakeOrchestrator fake = fakes.get(target.substring(0, target.lastIndexOf(':')));
    if (fake == null) {
      throw new IllegalStateException("no fake orchestrator " + target);
    }
    return fake.channel();
  }

  private FakeOrchestrator fake(String prefix) throws Exception {
    FakeOrchestrator fake = new FakeOrchestrator(prefix + "-" + System.nanoTime());
    closeables.add(fake);
    fakes.put(fake.name, fake);
    return fake;
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

  private static String registration(String id, FakeOrchestrator fake) {
    return new JsonObject()
        .put("id", id)
        .put("grpcAddress", fake.name + ":5008")
        .put("proxyAddress", "127.0.0.1:" + fake.proxyPort())
        .encode();
  }

  private Response register(String id, FakeOrchestrator fake) throws Exception {
    return client.call("POST", "/admin/nodes", registration(id, fake), ADMIN);
  }

  private JsonObject listed(String id) throws Exception {
    Response r = client.call("GET", "/admin/nodes", null, ADMIN);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    for (Object o : new JsonArray(r.body())) {
      JsonObject node = (JsonObject) o;
      if (node.getString("id").equals(id)) {
        return node;
      }
    }
    return new JsonObject();
  }

  private Response create() throws Exception {
    return client.authed("POST", "/sandboxes", "{\"templateID\":\"base\",\"timeout\":300}");
  }

  private static void assertError(Response r, int status, String messagePart) {
    assertThat(r.status()).as(r.body()).isEqualTo(status);
    assertThat(r.json().getInteger("code")).isEqualTo(status);
    assertThat(r.json().getString("message")).contains(messagePart);
  }

  @Test
  void aRegisteredNodeIsPlacedOnUntilItsHeartbeatsStopThenItsSandboxesAreGone() throws Exception {
    start(null, Duration.ofHours(1), TTL);
    FakeOrchestrator node = fake("reg");

    Response registered = register("worker-1", node);
    assertThat(registered.status()).as(registered.body()).isEqualTo(201);
    assertThat(registered.json().getString("source")).isEqualTo("registered");
    assertThat(registered.json().getString("grpcAddress")).isEqualTo(node.name + ":5008");
    api.checkNodes();
    JsonObject listed = listed("worker-1");
    assertThat(listed.getBoolean("healthy")).isTrue();
    assertThat(listed.getString("lastSeenAt")).isNotNull();
    assertThat(listed.getString("lastRegisteredAt")).isNotNull();

    Response created = create();
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    String id = created.json().getString("sandboxID");
    assertThat(node.sandboxes).containsKey(id);
    assertThat(client.authed("GET", "/sandboxes/" + id, null).status()).isEqualTo(200);

    // a heartbeat keeps it: 200, and the TTL counts from the last one
    Instant beforeBeat = Instant.now();
    Response beat = register("worker-1", node);
    assertThat(beat.status()).as(beat.body()).isEqualTo(200);
    assertThat(api.dropLostNodes(beforeBeat.plus(TTL).minusSeconds(1))).isEmpty();
    assertThat(listed("worker-1").getBoolean("healthy")).isTrue();

    // no heartbeat for longer than the TTL: dropped, its sandbox gone
    assertThat(api.dropLostNodes(Instant.now().plus(TTL).plusSeconds(1)))
        .containsExactly("worker-1");
    assertThat(listed("worker-1").isEmpty()).isTrue();
    assertThat(client.authed("GET", "/sandboxes/" + id, null).status()).isEqualTo(404);
    Response list = client.authed("GET", "/v2/sandboxes", null);
    assertThat(list.status()).isEqualTo(200);
    assertThat(list.body()).doesNotContain(id);
    assertThat(api.store().sandbox(id).orElseThrow().state().name()).isEqualTo("KILLED");
    assertError(create(), 503, "no node is available");

    // it comes back by registering again; the API deletes the sandbox it forgot
    assertThat(register("worker-1", node).status()).isEqualTo(201);
    api.checkNodes();
    assertThat(node.sandboxes).doesNotContainKey(id);
    assertThat(create().status()).isEqualTo(201);
  }

  @Test
  void theHealthChecksDropANodeWhoseRegistrationsStop() throws Exception {
    start(null, Duration.ofMillis(100), Duration.ofMillis(500));
    FakeOrchestrator node = fake("ttl");
    assertThat(register("short-lived", node).status()).isEqualTo(201);
    await().atMost(Duration.ofSeconds(30)).until(() -> listed("short-lived").isEmpty());
  }

  @Test
  void aChangedAddressReplacesTheChannelAndConfiguredNodesStay() throws Exception {
    FakeOrchestrator configured = fake("static");
    configured.templates = List.of("other");
    start(configured, Duration.ofHours(1), TTL);
    FakeOrchestrator first = fake("first");
    FakeOrchestrator second = fake("second");
    assertThat(register("mover", first).status()).isEqualTo(201);
    api.checkNodes();
    String one = create().json().getString("sandboxID");
    assertThat(first.sandboxes).containsKey(one);

    Response moved = register("mover", second);
    assertThat(moved.status()).as(moved.body()).isEqualTo(201);
    assertThat(moved.json().getString("grpcAddress")).isEqualTo(second.name + ":5008");
    api.checkNodes();
    Response created = create();
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    assertThat(second.sandboxes).containsKey(created.json().getString("sandboxID"));

    JsonObject stat = listed("static");
    assertThat(stat.getString("source")).isEqualTo("configured");
    assertThat(stat.getBoolean("healthy")).isTrue();
    assertThat(stat.getValue("lastRegisteredAt")).isNull();
    // a configured node is never dropped by the TTL, and its id cannot be registered
    assertThat(api.dropLostNodes(Instant.now().plus(TTL).plusSeconds(1))).containsExactly("mover");
    assertThat(listed("static").getBoolean("healthy")).isTrue();
    assertError(register("static", second), 409, "configured statically");
  }

  @Test
  void badRegistrationsAnswer400AndAuthIsRequired() throws Exception {
    start(null, Duration.ofHours(1), TTL);
    FakeOrchestrator node = fake("auth");
    String body = registration("n1", node);
    assertError(client.call("POST", "/admin/nodes", body), 401, "Invalid admin token");
    assertError(
        client.call("POST", "/admin/nodes", body, "X-Admin-Token", "wrong"),
        401,
        "Invalid admin token");
    assertError(client.call("GET", "/admin/nodes", null), 401, "Invalid admin token");
    assertError(
        client.call("GET", "/admin/nodes", null, "X-Admin-Token", "wrong"),
        401,
        "Invalid admin token");

    assertError(client.call("POST", "/admin/nodes", "{not json", ADMIN), 400, "");
    assertError(client.call("POST", "/admin/nodes", null, ADMIN), 400, "");
    assertError(
        client.call(
            "POST", "/admin/nodes", "{\"grpcAddress\":\"h:1\",\"proxyAddress\":\"h:2\"}", ADMIN),
        400,
        "\"id\" is missing");
    String[][] wrong = {
      {"id", "-starts-with-dash"},
      {"id", "has space"},
      {"id", "x".repeat(64)},
      {"grpcAddress", "no-port"},
      {"grpcAddress", "host:0"},
      {"grpcAddress", "host:70000"},
      {"grpcAddress", ":5008"},
      {"grpcAddress", "host:abc"},
      {"proxyAddress", "host:"},
      {"proxyAddress", "http://host:5007"},
    };
    for (String[] w : wrong) {
      JsonObject bad = new JsonObject(body).put(w[0], w[1]);
      Response r = client.call("POST", "/admin/nodes", bad.encode(), ADMIN);
      assertThat(r.status()).as(w[0] + "=" + w[1] + ": " + r.body()).isEqualTo(400);
      assertThat(r.json().getString("message")).as(r.body()).contains("Invalid " + w[0]);
    }
    Response typed =
        client.call("POST", "/admin/nodes", new JsonObject(body).put("id", 7).encode(), ADMIN);
    assertThat(typed.status()).as(typed.body()).isEqualTo(400);
    // nothing of it was registered
    Response list = client.call("GET", "/admin/nodes", null, ADMIN);
    assertThat(new JsonArray(list.body())).isEmpty();
    // an IPv6 literal is fine
    Response v6 =
        client.call(
            "POST",
            "/admin/nodes",
            new JsonObject(body).put("proxyAddress", "[::1]:5007").encode(),
            ADMIN);
    assertThat(v6.status()).as(v6.body()).isEqualTo(201);
    assertThat(v6.json().getString("proxyAddress")).isEqualTo("[::1]:5007");
  }
}
