package dev.sbx.api;

import static dev.sbx.api.ApiTestClient.assertError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sbx.api.ApiTestClient.Response;
import dev.sbx.api.node.NodeAddress;
import dev.sbx.api.store.SandboxState;
import dev.sbx.api.store.TeamLimits;
import dev.sbx.proxy.catalog.CatalogEntry;
import dev.sbx.proxy.catalog.InMemoryCatalog;
import dev.sbx.proxy.resume.ResumeRequest;
import dev.sbx.proxy.resume.ResumeResult;
import io.grpc.Status;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pause, resume, connect, auto-pause, the auto-resume decision, snapshots and fork, against a real
 * ApiServer (SQLite) and fake orchestrators that implement the new rpcs.
 */
@SuppressWarnings("NullAway") // fields set in start(), per test
class PauseApiTest {
  private static final TeamLimits LIMITS = new TeamLimits(5, 1, 8, 8192, 1000, 1000);
  @TempDir Path dir;
  private FakeOrchestrator node1;
  private FakeOrchestrator node2;
  private InMemoryCatalog catalog;
  private ApiServer api;
  private String key;
  private ApiTestClient client;

  private void start(TeamLimits limits) throws Exception {
    node1 = new FakeOrchestrator("pause1-" + System.nanoTime());
    node2 = new FakeOrchestrator("pause2-" + System.nanoTime());
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
  void stop() {
    if (api != null) {
      api.close();
    }
    if (node1 != null) {
      node1.close();
      node2.close();
    }
  }

  private JsonObject create(String body) throws Exception {
    Response r = client.authed("POST", "/sandboxes", body);
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    return r.json();
  }

  private String createId(String body) throws Exception {
    return create(body).getString("sandboxID");
  }

  private FakeOrchestrator owner(String id) {
    return node1.sandboxes.containsKey(id) || node1.paused.containsKey(id) ? node1 : node2;
  }

  private CatalogEntry.RouteState route(String id) throws Exception {
    return catalog.find(id).toCompletableFuture().get().orElseThrow().state();
  }

  private Set<String> ids(Response list) {
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < list.array().size(); i++) {
      ids.add(list.array().getJsonObject(i).getString("sandboxID"));
    }
    return ids;
  }

  private @Nullable String mask(String id) throws Exception {
    return catalog.find(id).toCompletableFuture().get().orElseThrow().maskRequestHost();
  }

  @Test
  void maskRequestHostSurvivesPauseAndResume() throws Exception {
    start(LIMITS);
    String id =
        createId(
            "{\"templateID\":\"base\",\"timeout\":300,"
                + "\"network\":{\"maskRequestHost\":\"masked.example:${PORT}\"}}");
    assertThat(mask(id)).isEqualTo("masked.example:${PORT}");

    Response paused = client.authed("POST", "/sandboxes/" + id + "/pause", "{}");
    assertThat(paused.status()).as(paused.body()).isEqualTo(204);
    assertThat(route(id)).isEqualTo(CatalogEntry.RouteState.PAUSED);
    assertThat(mask(id)).isEqualTo("masked.example:${PORT}");

    Response connected = client.authed("POST", "/sandboxes/" + id + "/connect", "{\"timeout\":60}");
    assertThat(connected.status()).as(connected.body()).isEqualTo(201);
    assertThat(route(id)).isEqualTo(CatalogEntry.RouteState.RUNNING);
    assertThat(mask(id)).isEqualTo("masked.example:${PORT}");
    assertThat(
            client
                .authed("GET", "/sandboxes/" + id, null)
                .json()
                .getJsonObject("network")
                .getString("maskRequestHost"))
        .isEqualTo("masked.example:${PORT}");
  }

  @Test
  void pauseShowsPausedThenResumeAndConnectBringItBackAndDeleteRemovesTheSavedState()
      throws Exception {
    start(LIMITS);
    JsonObject created =
        create(
            "{\"templateID\":\"base\",\"timeout\":300,\"secure\":true,"
                + "\"metadata\":{\"user\":\"alice\"}}");
    String id = created.getString("sandboxID");
    FakeOrchestrator owner = owner(id);

    Response paused = client.authed("POST", "/sandboxes/" + id + "/pause", "{\"memory\":true}");
    assertThat(paused.status()).as(paused.body()).isEqualTo(204);
    assertThat(paused.header("X-Sbx-Memory-Kept")).isEqualTo("true");
    assertThat(owner.sandboxes).doesNotContainKey(id);
    assertThat(owner.paused).containsKey(id);
    assertThat(route(id)).isEqualTo(CatalogEntry.RouteState.PAUSED);

    JsonObject detail = client.authed("GET", "/sandboxes/" + id, null).json();
    assertThat(detail.getString("state")).isEqualTo("paused");
    assertThat(detail.getBoolean("sbxMemoryKept")).isTrue();
    Instant pausedAt = api.store().sandbox(id).orElseThrow().pausedAt();
    assertThat(Instant.parse(detail.getString("endAt"))).isEqualTo(pausedAt);
    assertThat(detail.getJsonObject("metadata").getString("user")).isEqualTo("alice");

    assertError(
        client.authed("POST", "/sandboxes/" + id + "/pause", "{}"),
        409,
        "Error pausing sandbox - sandbox '" + id + "' is already paused");
    // what needs a running sandbox: 404
    assertError(
        client.authed("POST", "/sandboxes/" + id + "/timeout", "{\"timeout\":10}"), 404, "");
    assertError(client.authed("GET", "/sandboxes/" + id + "/metrics", null), 404, "Sandbox");

    // lists: v2 shows both states by default; v1 running only unless asked
    Response all = client.authed("GET", "/v2/sandboxes", null);
    assertThat(ids(all)).containsExactly(id);
    assertThat(all.array().getJsonObject(0).getString("state")).isEqualTo("paused");
    assertThat(all.header("X-Total-Running")).isEqualTo("0");
    assertThat(ids(client.authed("GET", "/v2/sandboxes?state=running", null))).isEmpty();
    assertThat(ids(client.authed("GET", "/v2/sandboxes?state=paused", null))).containsExactly(id);
    assertThat(ids(client.authed("GET", "/sandboxes", null))).isEmpty();
    assertThat(ids(client.authed("GET", "/sandboxes?state=paused", null))).containsExactly(id);
    assertError(client.authed("GET", "/sandboxes?state=gone", null), 400, "validation error");

    // the deprecated resume: 201, then 409 once running
    Response resumed = client.authed("POST", "/sandboxes/" + id + "/resume", "{\"timeout\":60}");
    assertThat(resumed.status()).as(resumed.body()).isEqualTo(201);
    assertThat(resumed.json().getString("sandboxID")).isEqualTo(id);
    assertThat(resumed.json().getString("envdAccessToken"))
        .isEqualTo(created.getString("envdAccessToken"));
    assertThat(owner.sandboxes).containsKey(id);
    assertThat(owner.paused).doesNotContainKey(id);
    assertThat(owner.lastResume.getEnvdAccessToken())
        .isEqualTo(created.getString("envdAccessToken"));
    assertThat(route(id)).isEqualTo(CatalogEntry.RouteState.RUNNING);
    JsonObject running = client.authed("GET", "/sandboxes/" + id, null).json();
    assertThat(running.getString("state")).isEqualTo("running");
    assertThat(
            Duration.between(
                Instant.parse(running.getString("startedAt")),
                Instant.parse(running.getString("endAt"))))
        .isEqualTo(Duration.ofSeconds(60));
    assertError(
        client.authed("POST", "/sandboxes/" + id + "/resume", "{}"),
        409,
        "Sandbox " + id + " is already running");

    // connect (v1 and v2): 201 when it resumed, 200 when it ran
    assertThat(client.authed("POST", "/sandboxes/" + id + "/pause", null).status()).isEqualTo(204);
    Response connected = client.authed("POST", "/v2/sandboxes/" + id + "/connect", "{}");
    assertThat(connected.status()).as(connected.body()).isEqualTo(201);
    assertThat(client.authed("POST", "/v2/sandboxes/" + id + "/connect", "{}").status())
        .isEqualTo(200);
    assertThat(client.authed("POST", "/sandboxes/" + id + "/pause", null).status()).isEqualTo(204);
    assertThat(client.authed("POST", "/sandboxes/" + id + "/connect", "{\"timeout\":30}").status())
        .isEqualTo(201);
    assertThat(client.authed("POST", "/sandboxes/" + id + "/connect", "{\"timeout\":30}").status())
        .isEqualTo(200);
    assertError(
        client.authed("POST", "/v2/sandboxes/" + id + "/connect", "{\"memory\":false}"),
        400,
        "Resuming with memory=false");

    // a paused sandbox is killed by deleting its saved state
    assertThat(client.authed("POST", "/sandboxes/" + id + "/pause", null).status()).isEqualTo(204);
    assertThat(client.authed("DELETE", "/sandboxes/" + id, null).status()).isEqualTo(204);
    assertThat(owner.paused).doesNotContainKey(id);
    assertThat(owner.deletedPaused.get()).isEqualTo(1);
    assertThat(catalog.find(id).toCompletableFuture().get()).isEmpty();
    assertError(client.authed("GET", "/sandboxes/" + id, null), 404, "Sandbox \"" + id + "\"");
    assertError(client.authed("POST", "/sandboxes/" + id + "/connect", "{\"timeout\":5}"), 404, "");
    assertError(client.authed("POST", "/sandboxes/" + id + "/pause", null), 404, "");
    assertError(client.authed("POST", "/sandboxes/inope/pause", null), 404, "Sandbox \"inope\"");
    assertError(client.authed("POST", "/sandboxes/inope/resume", null), 404, "Sandbox \"inope\"");
    assertError(client.authed("POST", "/sandboxes/NOPE/pause", null), 400, "Invalid sandbox ID");
    assertError(
        client.authed("POST", "/sandboxes/" + id + "/pause", "{\"memory\":\"yes\"}"),
        400,
        "validation error");

    Response logs = client.authed("GET", "/v2/sandboxes/" + id + "/logs", null);
    assertThat(logs.body()).contains("Sandbox paused", "Sandbox resumed", "Sandbox killed");
  }

  @Test
  void pausedSandboxesDoNotCountAndAResumeHoldsTheLimit() throws Exception {
    start(new TeamLimits(1, 1, 8, 8192, 1000, 1000));
    String a = createId("{\"templateID\":\"base\",\"timeout\":300}");
    assertError(client.authed("POST", "/sandboxes", "{\"templateID\":\"base\"}"), 429, "you have");
    assertThat(client.authed("POST", "/sandboxes/" + a + "/pause", null).status()).isEqualTo(204);
    String b = createId("{\"templateID\":\"base\",\"timeout\":300}");
    assertError(
        client.authed("POST", "/sandboxes/" + a + "/connect", "{\"timeout\":30}"),
        429,
        "you have reached the maximum number of concurrent E2B sandboxes (1)");
    assertThat(api.store().sandbox(a).orElseThrow().state()).isEqualTo(SandboxState.PAUSED);
    assertThat(client.authed("DELETE", "/sandboxes/" + b, null).status()).isEqualTo(204);
    assertThat(client.authed("POST", "/sandboxes/" + a + "/connect", "{\"timeout\":30}").status())
        .isEqualTo(201);
  }

  @Test
  void whatWasKeptIsSaidNeverFaked() throws Exception {
    start(LIMITS);
    String id = createId("{\"templateID\":\"base\",\"timeout\":300}");
    Response filesOnly = client.authed("POST", "/sandboxes/" + id + "/pause", "{\"memory\":false}");
    assertThat(filesOnly.status()).isEqualTo(204);
    assertThat(filesOnly.header("X-Sbx-Memory-Kept")).isEqualTo("false");
    assertThat(client.authed("GET", "/sandboxes/" + id, null).json().getBoolean("sbxMemoryKept"))
        .isFalse();
    assertThat(client.authed("POST", "/sandboxes/" + id + "/connect", "{\"timeout\":30}").status())
        .isEqualTo(201);

    // a runtime that cannot checkpoint keeps files only, and the answer says so
    node1.checkpoints = false;
    node2.checkpoints = false;
    Response asked = client.authed("POST", "/sandboxes/" + id + "/pause", "{\"memory\":true}");
    assertThat(asked.header("X-Sbx-Memory-Kept")).isEqualTo("false");
    assertThat(api.store().sandbox(id).orElseThrow().memoryKept()).isFalse();
  }

  @Test
  void aFailedPauseLeavesTheSandboxRunning() throws Exception {
    start(LIMITS);
    String id = createId("{\"templateID\":\"base\",\"timeout\":300}");
    FakeOrchestrator owner = owner(id);
    owner.pauseFailure.set(Status.RESOURCE_EXHAUSTED.withDescription("saved-state quota used up"));
    assertError(
        client.authed("POST", "/sandboxes/" + id + "/pause", null),
        507,
        "Error pausing sandbox - the node has no room for its saved state (saved-state quota");
    assertThat(client.authed("GET", "/sandboxes/" + id, null).json().getString("state"))
        .isEqualTo("running");
    assertThat(route(id)).isEqualTo(CatalogEntry.RouteState.RUNNING);
    owner.pauseFailure.set(Status.INTERNAL.withDescription("checkpoint failed"));
    assertError(
        client.authed("POST", "/sandboxes/" + id + "/pause", null),
        500,
        "Error pausing sandbox - checkpoint failed");
    assertThat(api.store().sandbox(id).orElseThrow().state()).isEqualTo(SandboxState.RUNNING);

    owner.pauseFailure.set(null);
    assertThat(client.authed("POST", "/sandboxes/" + id + "/pause", null).status()).isEqualTo(204);
    owner.resumeFailure.set(Status.INTERNAL.withDescription("restore failed"));
    assertError(
        client.authed("POST", "/sandboxes/" + id + "/connect", "{\"timeout\":30}"),
        500,
        "Failed to resume sandbox: restore failed");
    assertThat(api.store().sandbox(id).orElseThrow().state()).isEqualTo(SandboxState.PAUSED);
    assertThat(route(id)).isEqualTo(CatalogEntry.RouteState.PAUSED);
    // the saved state vanished from the node: the sandbox is gone
    owner.resumeFailure.set(null);
    owner.paused.clear();
    assertError(
        client.authed("POST", "/sandboxes/" + id + "/connect", "{\"timeout\":30}"), 404, "");
    assertThat(api.store().sandbox(id).orElseThrow().state()).isEqualTo(SandboxState.KILLED);
  }

  @Test
  void transitionsOfOneSandboxAreSerialised() throws Exception {
    start(LIMITS);
    String id = createId("{\"templateID\":\"base\",\"timeout\":300}");
    FakeOrchestrator owner = owner(id);
    CountDownLatch gate = new CountDownLatch(1);
    owner.transitionGate.set(gate);
    CompletableFuture<Response> pause =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return client.authed("POST", "/sandboxes/" + id + "/pause", null);
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> api.store().sandbox(id).orElseThrow().state() == SandboxState.PAUSING);
    assertThat(route(id)).isEqualTo(CatalogEntry.RouteState.TRANSITIONING);
    assertThat(client.authed("GET", "/sandboxes/" + id, null).json().getString("state"))
        .isEqualTo("paused");
    assertError(client.authed("POST", "/sandboxes/" + id + "/pause", null), 409, "Error pausing");
    // a connect meanwhile waits for the pause, then resumes
    CompletableFuture<Response> connect =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return client.authed("POST", "/sandboxes/" + id + "/connect", "{\"timeout\":30}");
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    Thread.sleep(200);
    assertThat(connect).isNotDone();
    assertThat(owner.pauses.get()).isEqualTo(1);
    gate.countDown();
    assertThat(pause.get(10, TimeUnit.SECONDS).status()).isEqualTo(204);
    Response connected = connect.get(10, TimeUnit.SECONDS);
    assertThat(connected.status()).as(connected.body()).isEqualTo(201);
    assertThat(owner.resumes.get()).isEqualTo(1);
    assertThat(api.store().sandbox(id).orElseThrow().state()).isEqualTo(SandboxState.RUNNING);
  }

  @Test
  void autoPauseAtTheEndTimeInsteadOfKill() throws Exception {
    start(LIMITS);
    String id = createId("{\"templateID\":\"base\",\"timeout\":1,\"autoPause\":true}");
    JsonObject detail = client.authed("GET", "/sandboxes/" + id, null).json();
    assertThat(detail.getJsonObject("lifecycle").getString("onTimeout")).isEqualTo("pause");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> api.store().sandbox(id).orElseThrow().state() == SandboxState.PAUSED);
    assertThat(api.store().sandbox(id).orElseThrow().memoryKept()).isTrue();
    assertThat(owner(id).paused).containsKey(id);

    String filesOnly =
        createId(
            "{\"templateID\":\"base\",\"timeout\":1,\"autoPause\":true,\"autoPauseMemory\":false}");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> api.store().sandbox(filesOnly).orElseThrow().state() == SandboxState.PAUSED);
    assertThat(api.store().sandbox(filesOnly).orElseThrow().memoryKept()).isFalse();

    // a pause that fails at the end time still ends the sandbox
    node1.pauseFailure.set(Status.INTERNAL.withDescription("broken"));
    node2.pauseFailure.set(Status.INTERNAL.withDescription("broken"));
    String broken = createId("{\"templateID\":\"base\",\"timeout\":1,\"autoPause\":true}");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> api.store().sandbox(broken).orElseThrow().state() == SandboxState.KILLED);
    assertThat(node1.sandboxes).doesNotContainKey(broken);
    assertThat(node2.sandboxes).doesNotContainKey(broken);
  }

  private Response autoResume(String id, String body, String token) throws Exception {
    return client.call(
        "POST", "/admin/sandboxes/" + id + "/auto-resume", body, "X-Admin-Token", token);
  }

  @Test
  void autoResumeChecksPolicyAndTokens() throws Exception {
    start(LIMITS);
    JsonObject created =
        create(
            "{\"templateID\":\"base\",\"timeout\":60,\"secure\":true,\"autoPause\":true,"
                + "\"autoResume\":{\"enabled\":true},\"network\":{\"allowPublicTraffic\":false}}");
    String id = created.getString("sandboxID");
    String traffic = created.getString("trafficAccessToken");
    String envd = created.getString("envdAccessToken");
    assertThat(client.authed("POST", "/sandboxes/" + id + "/pause", null).status()).isEqualTo(204);

    assertError(autoResume(id, "{\"port\":8000}", "wrong"), 401, "Invalid admin token");
    assertError(
        autoResume(id, "{\"port\":8000}", "admin-secret"),
        403,
        "This sandbox can't be resumed with the credentials provided.");
    assertError(
        autoResume(id, "{\"port\":8000,\"trafficAccessToken\":\"x\"}", "admin-secret"), 403, "");
    assertError(
        autoResume(id, "{\"port\":49983,\"envdAccessToken\":\"x\"}", "admin-secret"), 403, "");
    assertThat(api.store().sandbox(id).orElseThrow().state()).isEqualTo(SandboxState.PAUSED);
    assertError(autoResume(id, "{}", "admin-secret"), 400, "validation error");

    Response resumed =
        autoResume(
            id, "{\"port\":8000,\"trafficAccessToken\":\"" + traffic + "\"}", "admin-secret");
    assertThat(resumed.status()).as(resumed.body()).isEqualTo(200);
    assertThat(resumed.json().getString("nodeID"))
        .isEqualTo(owner(id) == node1 ? "node1" : "node2");
    assertThat(resumed.json().getInteger("nodeProxyPort")).isEqualTo(owner(id).proxyPort());
    assertThat(resumed.json().getString("trafficAccessToken")).isEqualTo(traffic);
    SandboxState state = api.store().sandbox(id).orElseThrow().state();
    assertThat(state).isEqualTo(SandboxState.RUNNING);
    // auto-resumed with the create-time timeout raised to E2B's minimum of 300 s
    var record = api.store().sandbox(id).orElseThrow();
    assertThat(Duration.between(record.startedAt(), record.endAt()))
        .isEqualTo(Duration.ofSeconds(300));
    // running: the route again, no resume
    assertThat(
            autoResume(
                    id,
                    "{\"port\":8000,\"trafficAccessToken\":\"" + traffic + "\"}",
                    "admin-secret")
                .status())
        .isEqualTo(200);
    assertThat(owner(id).resumes.get()).isEqualTo(1);

    // envd's port takes the envd token, in-process through the API's own resumer
    assertThat(client.authed("POST", "/sandboxes/" + id + "/pause", null).status()).isEqualTo(204);
    ResumeResult inProcess =
        api.sandboxResumer()
            .resume(new ResumeRequest(id, 49983, null, envd))
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    assertThat(inProcess.outcome()).isEqualTo(ResumeResult.Outcome.RESUMED);
    assertThat(inProcess.route().state()).isEqualTo(CatalogEntry.RouteState.RUNNING);

    // without autoResume, or paused without memory: not resumable by traffic
    String plain = createId("{\"templateID\":\"base\",\"timeout\":60}");
    assertThat(client.authed("POST", "/sandboxes/" + plain + "/pause", null).status())
        .isEqualTo(204);
    assertError(autoResume(plain, "{\"port\":8000}", "admin-secret"), 404, "");
    String noMemory =
        createId(
            "{\"templateID\":\"base\",\"timeout\":60,\"autoPause\":true,"
                + "\"autoResume\":{\"enabled\":true}}");
    assertThat(
            client
                .authed("POST", "/sandboxes/" + noMemory + "/pause", "{\"memory\":false}")
                .status())
        .isEqualTo(204);
    assertError(autoResume(noMemory, "{\"port\":8000}", "admin-secret"), 404, "");
    assertError(autoResume("inope", "{\"port\":8000}", "admin-secret"), 404, "");

    // the limit holds for auto-resume too
    String other =
        createId(
            "{\"templateID\":\"base\",\"timeout\":60,\"autoPause\":true,"
                + "\"autoResume\":{\"enabled\":true}}");
    assertThat(client.authed("POST", "/sandboxes/" + other + "/pause", null).status())
        .isEqualTo(204);
    for (int i = 0; i < 4; i++) {
      createId("{\"templateID\":\"base\",\"timeout\":60}");
    }
    assertError(autoResume(other, "{\"port\":8000}", "admin-secret"), 429, "you have reached");
  }

  @Test
  void snapshotsAreNamedListedPagedUsedAsTemplatesAndDeleted() throws Exception {
    start(LIMITS);
    String slug = api.store().teams().getFirst().slug();
    String id = createId("{\"templateID\":\"base\",\"timeout\":300,\"metadata\":{\"k\":\"v\"}}");
    FakeOrchestrator owner = owner(id);

    Response named =
        client.authed("POST", "/sandboxes/" + id + "/snapshots", "{\"name\":\"My-Snap\"}");
    assertThat(named.status()).as(named.body()).isEqualTo(201);
    assertThat(named.json().getString("snapshotID")).isEqualTo(slug + "/my-snap:default");
    assertThat(named.json().getJsonArray("names").getList())
        .containsExactly(slug + "/my-snap:default");
    assertThat(owner.snapshots).hasSize(1);
    assertThat(client.authed("GET", "/sandboxes/" + id, null).json().getString("state"))
        .isEqualTo("running");

    Response unnamed = client.authed("POST", "/sandboxes/" + id + "/snapshots", null);
    assertThat(unnamed.status()).isEqualTo(201);
    String unnamedId = unnamed.json().getString("snapshotID");
    assertThat(unnamedId).matches("[a-z0-9]{20}:default");
    assertThat(unnamed.json().getJsonArray("names")).isEmpty();

    Response all = client.authed("GET", "/snapshots", null);
    assertThat(all.status()).isEqualTo(200);
    assertThat(all.array()).hasSize(2);
    assertThat(all.array().getJsonObject(0).getString("snapshotID")).isEqualTo(unnamedId);
    assertThat(client.authed("GET", "/snapshots?name=my-snap", null).array()).hasSize(1);
    assertThat(client.authed("GET", "/snapshots?sandboxID=inope", null).array()).isEmpty();
    assertThat(client.authed("GET", "/snapshots?sandboxID=" + id, null).array()).hasSize(2);
    Response first = client.authed("GET", "/snapshots?limit=1", null);
    assertThat(first.array()).hasSize(1);
    String next = first.header("X-Next-Token");
    assertThat(next).isNotNull();
    Response second = client.authed("GET", "/snapshots?limit=1&nextToken=" + next, null);
    assertThat(second.array().getJsonObject(0).getString("snapshotID"))
        .isEqualTo(slug + "/my-snap:default");
    assertThat(second.header("X-Next-Token")).isNull();
    assertError(client.authed("GET", "/snapshots?limit=0", null), 400, "validation error");

    // a sandbox from the snapshot, on the node that holds it, by full name and by bare name
    for (String template : List.of(slug + "/my-snap:default", "my-snap", unnamedId)) {
      String child = createId("{\"templateID\":\"" + template + "\",\"timeout\":60}");
      assertThat(owner.sandboxes).containsKey(child);
      assertThat(owner.sandboxes.get(child).getSnapshotId()).isNotEmpty();
      assertThat(client.authed("GET", "/sandboxes/" + child, null).json().getString("templateID"))
          .isEqualTo("base");
    }

    // the same name again moves it to the new snapshot; the old one is deleted on its node
    assertThat(
            client
                .authed("POST", "/sandboxes/" + id + "/snapshots", "{\"name\":\"my-snap\"}")
                .status())
        .isEqualTo(201);
    assertThat(owner.snapshots).hasSize(2);
    assertThat(client.authed("GET", "/snapshots", null).array()).hasSize(2);

    // deleting (the SDK: DELETE /templates/{snapshotID}, the name URL-encoded)
    String encoded = URLEncoder.encode(slug + "/my-snap:default", StandardCharsets.UTF_8);
    assertThat(client.authed("DELETE", "/templates/" + encoded, null).status()).isEqualTo(204);
    assertThat(client.authed("DELETE", "/templates/" + encoded, null).status()).isEqualTo(404);
    assertThat(client.authed("DELETE", "/templates/" + unnamedId, null).status()).isEqualTo(204);
    assertThat(owner.snapshots).isEmpty();
    assertError(client.authed("DELETE", "/templates/base", null), 400, "Deleting templates");
    assertError(
        client.authed("POST", "/sandboxes", "{\"templateID\":\"my-snap\"}"),
        404,
        "template 'my-snap' not found");

    // bad input and states
    assertError(
        client.authed("POST", "/sandboxes/" + id + "/snapshots", "{\"name\":\"a b\"}"),
        400,
        "Invalid snapshot name");
    assertError(client.authed("POST", "/sandboxes/inope/snapshots", null), 404, "Sandbox");
    assertThat(client.authed("POST", "/sandboxes/" + id + "/pause", null).status()).isEqualTo(204);
    assertError(client.authed("POST", "/sandboxes/" + id + "/snapshots", null), 409, "Sandbox");
  }

  @Test
  void forkStartsChildrenFromOneCheckpointWithinTheLimit() throws Exception {
    start(LIMITS);
    JsonObject parent =
        create(
            "{\"templateID\":\"base\",\"timeout\":300,\"secure\":true,"
                + "\"metadata\":{\"role\":\"parent\"}}");
    String id = parent.getString("sandboxID");
    FakeOrchestrator owner = owner(id);

    Response forked =
        client.authed("POST", "/sandboxes/" + id + "/fork", "{\"count\":3,\"timeout\":60}");
    assertThat(forked.status()).as(forked.body()).isEqualTo(201);
    JsonArray results = forked.array();
    assertThat(results).hasSize(3);
    Set<String> children = new HashSet<>();
    Set<String> tokens = new HashSet<>();
    for (int i = 0; i < 3; i++) {
      JsonObject sandbox = results.getJsonObject(i).getJsonObject("sandbox");
      String child = sandbox.getString("sandboxID");
      children.add(child);
      tokens.add(sandbox.getString("envdAccessToken"));
      assertThat(owner.sandboxes).containsKey(child);
      assertThat(route(child)).isEqualTo(CatalogEntry.RouteState.RUNNING);
      JsonObject detail = client.authed("GET", "/sandboxes/" + child, null).json();
      assertThat(detail.getJsonObject("metadata").getString("role")).isEqualTo("parent");
      assertThat(
              Duration.between(
                  Instant.parse(detail.getString("startedAt")),
                  Instant.parse(detail.getString("endAt"))))
          .isEqualTo(Duration.ofSeconds(60));
    }
    assertThat(children).hasSize(3).doesNotContain(id);
    assertThat(tokens).hasSize(3).doesNotContain(parent.getString("envdAccessToken"));

    // 4 of 5 slots are used: one more child fits, the second gets the 429
    Response limited = client.authed("POST", "/sandboxes/" + id + "/fork", "{\"count\":2}");
    assertThat(limited.status()).isEqualTo(201);
    assertThat(limited.array().getJsonObject(0).containsKey("sandbox")).isTrue();
    JsonObject error = limited.array().getJsonObject(1).getJsonObject("error");
    assertThat(error.getInteger("code")).isEqualTo(429);
    assertThat(error.getString("message")).startsWith("you have reached");

    // a child the node cannot start is reported in its place; its slot is freed
    for (String child : children) {
      assertThat(client.authed("DELETE", "/sandboxes/" + child, null).status()).isEqualTo(204);
    }
    owner.failingForkChildren.add(1);
    Response partly = client.authed("POST", "/sandboxes/" + id + "/fork", "{\"count\":2}");
    assertThat(partly.array().getJsonObject(0).containsKey("sandbox")).isTrue();
    assertThat(partly.array().getJsonObject(1).getJsonObject("error").getInteger("code"))
        .isEqualTo(503);
    long active =
        api.store().sandboxes(api.store().teams().getFirst().id(), SandboxState.RUNNING).size();
    assertThat(active).isEqualTo(3);

    assertError(
        client.authed("POST", "/sandboxes/" + id + "/fork", "{\"count\":0}"), 400, "validation");
    assertError(
        client.authed("POST", "/sandboxes/" + id + "/fork", "{\"count\":101}"), 400, "validation");
    assertError(
        client.authed("POST", "/sandboxes/" + id + "/fork", "{\"timeout\":0}"), 400, "Timeout");
    assertError(client.authed("POST", "/sandboxes/inope/fork", null), 404, "Sandbox");
    assertThat(client.authed("POST", "/sandboxes/" + id + "/pause", null).status()).isEqualTo(204);
    assertError(client.authed("POST", "/sandboxes/" + id + "/fork", null), 409, "Sandbox");
  }

  @Test
  void aPausedSandboxKilledWhileItsNodeSavesItLeavesNothing() throws Exception {
    start(LIMITS);
    String id = createId("{\"templateID\":\"base\",\"timeout\":300}");
    FakeOrchestrator owner = owner(id);
    CountDownLatch gate = new CountDownLatch(1);
    owner.transitionGate.set(gate);
    CompletableFuture<Response> pause =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return client.authed("POST", "/sandboxes/" + id + "/pause", null);
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> api.store().sandbox(id).orElseThrow().state() == SandboxState.PAUSING);
    assertThat(client.authed("DELETE", "/sandboxes/" + id, null).status()).isEqualTo(204);
    gate.countDown();
    assertThat(pause.get(10, TimeUnit.SECONDS).status()).isIn(404, 204);
    await().atMost(Duration.ofSeconds(10)).until(() -> owner.paused.isEmpty());
    assertThat(owner.sandboxes).doesNotContainKey(id);
    assertThat(catalog.find(id).toCompletableFuture().get()).isEqualTo(Optional.empty());
  }
}
