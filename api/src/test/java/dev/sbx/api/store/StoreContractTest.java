package dev.sbx.api.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Store} does. Each implementation's test extends this and opens a fresh, empty
 * store in {@link #openStore()}.
 */
@SuppressWarnings("NullAway") // the store is opened before each test
abstract class StoreContractTest {
  private Store store;

  /** A new store on an empty database. */
  protected abstract Store openStore() throws Exception;

  @BeforeEach
  void open() throws Exception {
    store = openStore();
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  static Instant now() {
    return Instant.now().truncatedTo(ChronoUnit.MICROS);
  }

  static SandboxRecord sandbox(String id, String teamId, Instant startedAt) {
    return new SandboxRecord(
        id,
        teamId,
        "base",
        "base",
        "node1",
        SandboxState.STARTING,
        startedAt,
        startedAt.plusSeconds(60),
        null,
        null,
        2,
        512,
        1024,
        "0.6.13",
        Map.of("user", "alice", "k", "v=1"),
        "token",
        null,
        true,
        "{\"allowPublicTraffic\":true}",
        false,
        false,
        true,
        60,
        null,
        null);
  }

  @Test
  void bootstrapCreatesOneTeamAndKeyOnlyOnce() {
    CreatedApiKey first = store.bootstrap("Default", TeamLimits.BASE).orElseThrow();
    assertThat(first.secret()).matches("e2b_[0-9a-f]{40}");
    assertThat(first.key().mask()).startsWith("e2b_").contains("…");
    assertThat(store.bootstrap("Default", TeamLimits.BASE)).isEmpty();
    assertThat(store.teams()).hasSize(1);
    Team team = store.teams().getFirst();
    assertThat(team.limits()).isEqualTo(TeamLimits.BASE);
    assertThat(team.slug()).startsWith("default-");

    KeyOwner owner = store.findKey(ApiKeys.hash(first.secret())).orElseThrow();
    assertThat(owner.team().id()).isEqualTo(team.id());
    assertThat(owner.key().id()).isEqualTo(first.key().id());
  }

  @Test
  void keysAreFoundByHashTouchedAndRevoked() {
    Team team = store.createTeam("Acme", new TeamLimits(3, 2, 4, 4096, 10, 20));
    CreatedApiKey key = store.createApiKey(team.id(), "ci");
    assertThat(store.findKey(ApiKeys.hash(ApiKeys.generate()))).isEmpty();
    assertThat(store.findKey(key.secret())).as("the key itself is not what is stored").isEmpty();

    Instant used = now();
    store.touchKey(key.key().id(), used);
    assertThat(store.apiKeys(team.id()))
        .singleElement()
        .satisfies(k -> assertThat(k.lastUsedAt()).isEqualTo(used));

    Team other = store.createTeam("Other", TeamLimits.BASE);
    assertThat(store.revokeKey(other.id(), key.key().id())).isFalse();
    assertThat(store.revokeKey(team.id(), key.key().id())).isTrue();
    assertThat(store.revokeKey(team.id(), key.key().id())).isFalse();
    assertThat(store.findKey(ApiKeys.hash(key.secret()))).isEmpty();
    assertThat(store.apiKeys(team.id()))
        .singleElement()
        .satisfies(k -> assertThat(k.revoked()).isTrue());
  }

  @Test
  void templatesWithAliasesAndVisibility() {
    Team team = store.createTeam("Acme", TeamLimits.BASE);
    Team other = store.createTeam("Other", TeamLimits.BASE);
    Instant at = now();
    store.putTemplate(
        new TemplateRecord(
            "base", null, true, List.of("base"), 2, 512, 1024, "0.6.13", at, at, null, 0));
    store.putTemplate(
        new TemplateRecord(
            "abcdefghij0123456789",
            team.id(),
            false,
            List.of("mine", "mine2"),
            1,
            256,
            512,
            "0.6.13",
            at.plusSeconds(1),
            at,
            null,
            0));

    assertThat(store.templateByAlias("mine2").orElseThrow().id()).isEqualTo("abcdefghij0123456789");
    assertThat(store.template("base").orElseThrow().aliases()).containsExactly("base");
    assertThat(store.templates(team.id()))
        .extracting(TemplateRecord::id)
        .containsExactly("base", "abcdefghij0123456789");
    assertThat(store.templates(other.id())).extracting(TemplateRecord::id).containsExactly("base");
    assertThat(store.templateByAlias("nope")).isEmpty();

    store.templateSpawned("base", at.plusSeconds(5));
    TemplateRecord base = store.template("base").orElseThrow();
    assertThat(base.spawnCount()).isEqualTo(1);
    assertThat(base.lastSpawnedAt()).isEqualTo(at.plusSeconds(5));

    // replacing keeps the spawn count and replaces the aliases
    store.putTemplate(
        new TemplateRecord(
            "base",
            null,
            true,
            List.of("base", "default"),
            2,
            1024,
            1024,
            "0.6.14",
            at,
            at.plusSeconds(9),
            null,
            0));
    base = store.template("base").orElseThrow();
    assertThat(base.aliases()).containsExactly("base", "default");
    assertThat(base.memoryMb()).isEqualTo(1024);
    assertThat(base.spawnCount()).isEqualTo(1);
  }

  @Test
  void nodesAreUpserted() {
    store.putNode(new NodeRecord("node1", "10.0.0.1:5008", "10.0.0.1", 5007, true, now()));
    store.putNode(new NodeRecord("node1", "10.0.0.1:5008", "10.0.0.1", 5007, false, null));
    assertThat(store.nodes())
        .singleElement()
        .satisfies(
            n -> {
              assertThat(n.healthy()).isFalse();
              assertThat(n.lastSeenAt()).isNull();
            });
  }

  @Test
  void sandboxLifecycle() {
    Team team = store.createTeam("Acme", TeamLimits.BASE);
    Instant start = now();
    SandboxRecord record = sandbox("ia1", team.id(), start);
    assertThat(store.reserveSandbox(record, 5)).isTrue();
    assertThat(store.sandbox("ia1")).contains(record);
    assertThat(store.sandboxes(team.id(), SandboxState.RUNNING)).isEmpty();

    Instant running = start.plusSeconds(1);
    assertThat(store.markRunning("ia1", "node2", running, running.plusSeconds(30))).isTrue();
    assertThat(store.markRunning("ia1", "node2", running, running.plusSeconds(30))).isFalse();
    SandboxRecord stored = store.sandbox("ia1").orElseThrow();
    assertThat(stored.state()).isEqualTo(SandboxState.RUNNING);
    assertThat(stored.startedAt()).isEqualTo(running);
    assertThat(stored.metadata()).containsEntry("k", "v=1");
    assertThat(stored.allowInternetAccess()).isTrue();
    assertThat(stored.nodeId()).isEqualTo("node2");

    assertThat(store.expired(running.plusSeconds(29))).isEmpty();
    assertThat(store.expired(running.plusSeconds(30)))
        .extracting(SandboxRecord::id)
        .containsExactly("ia1");
    assertThat(store.updateEndAt("ia1", running.plusSeconds(100))).isTrue();
    assertThat(store.expired(running.plusSeconds(30))).isEmpty();

    assertThat(store.markKilled("ia1", running.plusSeconds(40), "killed")).isTrue();
    assertThat(store.markKilled("ia1", running.plusSeconds(41), "timeout")).isFalse();
    assertThat(store.updateEndAt("ia1", running.plusSeconds(200))).isFalse();
    stored = store.sandbox("ia1").orElseThrow();
    assertThat(stored.state()).isEqualTo(SandboxState.KILLED);
    assertThat(stored.endReason()).isEqualTo("killed");
    assertThat(stored.killedAt()).isEqualTo(running.plusSeconds(40));

    assertThat(store.purgeKilled(running.plusSeconds(40))).isZero();
    assertThat(store.purgeKilled(running.plusSeconds(41))).isEqualTo(1);
    assertThat(store.sandbox("ia1")).isEmpty();
  }

  @Test
  void listsAreNewestFirstPerTeamAndState() {
    Team team = store.createTeam("Acme", TeamLimits.BASE);
    Team other = store.createTeam("Other", TeamLimits.BASE);
    Instant start = now();
    for (int i = 0; i < 3; i++) {
      store.reserveSandbox(sandbox("ib" + i, team.id(), start.plusSeconds(i)), 10);
      store.markRunning("ib" + i, "node1", start.plusSeconds(i), start.plusSeconds(100));
    }
    store.reserveSandbox(sandbox("ic", other.id(), start), 10);
    assertThat(store.sandboxes(team.id(), SandboxState.RUNNING))
        .extracting(SandboxRecord::id)
        .containsExactly("ib2", "ib1", "ib0");
    assertThat(store.sandboxes(SandboxState.STARTING))
        .extracting(SandboxRecord::id)
        .containsExactly("ic");
  }

  @Test
  void reservationsRespectTheConcurrencyLimitUnderContention() throws Exception {
    Team team = store.createTeam("Acme", TeamLimits.BASE);
    Instant start = now();
    List<Future<Boolean>> results = new ArrayList<>();
    try (ExecutorService executor = Executors.newFixedThreadPool(8)) {
      for (int i = 0; i < 24; i++) {
        String id = "ir" + i;
        results.add(executor.submit(() -> store.reserveSandbox(sandbox(id, team.id(), start), 5)));
      }
    }
    int reserved = 0;
    for (Future<Boolean> result : results) {
      reserved += result.get() ? 1 : 0;
    }
    assertThat(reserved).isEqualTo(5);
    assertThat(store.sandboxes(team.id(), SandboxState.STARTING)).hasSize(5);
    // a killed sandbox frees its slot
    String killed = store.sandboxes(team.id(), SandboxState.STARTING).getFirst().id();
    store.markKilled(killed, now(), "start failed");
    assertThat(store.reserveSandbox(sandbox("iextra", team.id(), start), 5)).isTrue();
  }

  @Test
  void pauseAndResumeAreCompareAndSetAndPausedSandboxesDoNotCount() {
    Team team = store.createTeam("t", TeamLimits.BASE);
    Instant start = now();
    assertThat(store.reserveSandbox(sandbox("a", team.id(), start), 1)).isTrue();
    assertThat(store.markRunning("a", "node1", start, start.plusSeconds(60))).isTrue();
    // one active sandbox: the limit of 1 is reached
    assertThat(store.reserveSandbox(sandbox("b", team.id(), start), 1)).isFalse();

    assertThat(store.transition("a", SandboxState.RUNNING, SandboxState.PAUSING)).isTrue();
    assertThat(store.transition("a", SandboxState.RUNNING, SandboxState.PAUSING)).isFalse();
    // pausing still counts
    assertThat(store.reserveSandbox(sandbox("b", team.id(), start), 1)).isFalse();
    assertThat(store.reserveResume("a", 1)).isEqualTo(Store.ResumeReservation.NOT_PAUSED);
    Instant pausedAt = start.plusSeconds(5);
    assertThat(store.markPaused("a", pausedAt, true)).isTrue();
    assertThat(store.markPaused("a", pausedAt, true)).isFalse();
    SandboxRecord paused = store.sandbox("a").orElseThrow();
    assertThat(paused.state()).isEqualTo(SandboxState.PAUSED);
    assertThat(paused.pausedAt()).isEqualTo(pausedAt);
    assertThat(paused.memoryKept()).isTrue();
    assertThat(paused.shownPaused()).isTrue();
    assertThat(paused.autoPauseMemory()).isTrue();
    assertThat(paused.timeoutSeconds()).isEqualTo(60);

    // paused does not count: b fits, and then a cannot resume within the limit of 1
    assertThat(store.reserveSandbox(sandbox("b", team.id(), start), 1)).isTrue();
    assertThat(store.reserveResume("a", 1)).isEqualTo(Store.ResumeReservation.LIMIT_REACHED);
    assertThat(store.sandbox("a").orElseThrow().state()).isEqualTo(SandboxState.PAUSED);
    assertThat(store.reserveResume("a", 2)).isEqualTo(Store.ResumeReservation.RESERVED);
    assertThat(store.reserveResume("a", 2)).isEqualTo(Store.ResumeReservation.NOT_PAUSED);
    assertThat(store.sandboxes(team.id(), SandboxState.SHOWN_PAUSED))
        .extracting(SandboxRecord::id)
        .containsExactly("a");

    Instant resumedAt = start.plusSeconds(10);
    assertThat(store.markResumed("a", "node2", resumedAt, resumedAt.plusSeconds(30))).isTrue();
    assertThat(store.markResumed("a", "node2", resumedAt, resumedAt.plusSeconds(30))).isFalse();
    SandboxRecord resumed = store.sandbox("a").orElseThrow();
    assertThat(resumed.state()).isEqualTo(SandboxState.RUNNING);
    assertThat(resumed.nodeId()).isEqualTo("node2");
    assertThat(resumed.startedAt()).isEqualTo(resumedAt);
    assertThat(resumed.endAt()).isEqualTo(resumedAt.plusSeconds(30));

    // a paused sandbox can be killed; a killed one goes nowhere
    assertThat(store.transition("a", SandboxState.RUNNING, SandboxState.PAUSING)).isTrue();
    assertThat(store.markPaused("a", resumedAt, false)).isTrue();
    assertThat(store.sandbox("a").orElseThrow().memoryKept()).isFalse();
    assertThat(store.markKilled("a", resumedAt, "killed")).isTrue();
    assertThat(store.reserveResume("a", 5)).isEqualTo(Store.ResumeReservation.NOT_PAUSED);
    assertThat(store.transition("a", SandboxState.PAUSED, SandboxState.RESUMING)).isFalse();
    assertThat(store.reserveResume("missing", 5)).isEqualTo(Store.ResumeReservation.NOT_PAUSED);
  }

  @Test
  void pauseAndResumeReservationsRespectTheLimitUnderContention() throws Exception {
    Team team = store.createTeam("t", TeamLimits.BASE);
    Instant start = now();
    for (int i = 0; i < 6; i++) {
      String id = "p" + i;
      assertThat(store.reserveSandbox(sandbox(id, team.id(), start), 100)).isTrue();
      assertThat(store.markRunning(id, "node1", start, start.plusSeconds(60))).isTrue();
      assertThat(store.transition(id, SandboxState.RUNNING, SandboxState.PAUSING)).isTrue();
      assertThat(store.markPaused(id, start, true)).isTrue();
    }
    ExecutorService pool = Executors.newFixedThreadPool(6);
    try {
      List<Future<Store.ResumeReservation>> results = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        String id = "p" + i;
        results.add(pool.submit(() -> store.reserveResume(id, 3)));
      }
      int reserved = 0;
      for (Future<Store.ResumeReservation> result : results) {
        if (result.get() == Store.ResumeReservation.RESERVED) {
          reserved++;
        }
      }
      assertThat(reserved).isEqualTo(3);
    } finally {
      pool.shutdownNow();
    }
  }

  static SnapshotRecord snapshot(String id, String teamId, String name, Instant at) {
    return new SnapshotRecord(
        id, teamId, name, "sbx1", "base", "node1", 2, 512, 1024, "0.6.13", true, 4096, at);
  }

  @Test
  void snapshotsByIdNameAndTeamAndANameMovesToTheNewest() {
    Team team = store.createTeam("t", TeamLimits.BASE);
    Team other = store.createTeam("o", TeamLimits.BASE);
    Instant at = now();
    assertThat(store.putSnapshot(snapshot("s1", team.id(), "snap", at))).isEmpty();
    assertThat(store.putSnapshot(snapshot("s2", team.id(), null, at.plusSeconds(1)))).isEmpty();
    assertThat(store.putSnapshot(snapshot("s3", team.id(), null, at.plusSeconds(2)))).isEmpty();
    assertThat(store.putSnapshot(snapshot("o1", other.id(), "snap", at))).isEmpty();
    assertThat(store.snapshot("s1")).contains(snapshot("s1", team.id(), "snap", at));
    assertThat(store.snapshotByName(team.id(), "snap").orElseThrow().id()).isEqualTo("s1");
    assertThat(store.snapshotByName(other.id(), "snap").orElseThrow().id()).isEqualTo("o1");
    assertThat(store.snapshots(team.id()))
        .extracting(SnapshotRecord::id)
        .containsExactly("s3", "s2", "s1");

    SnapshotRecord newer = snapshot("s4", team.id(), "snap", at.plusSeconds(3));
    assertThat(store.putSnapshot(newer)).map(SnapshotRecord::id).contains("s1");
    assertThat(store.snapshot("s1")).isEmpty();
    assertThat(store.snapshotByName(team.id(), "snap")).contains(newer);

    assertThat(store.deleteSnapshot("s4")).isTrue();
    assertThat(store.deleteSnapshot("s4")).isFalse();
    assertThat(store.snapshotByName(team.id(), "snap")).isEmpty();
    assertThat(store.snapshots(team.id()))
        .extracting(SnapshotRecord::id)
        .containsExactly("s3", "s2");
  }

  @Test
  void eventsForwardAndBackward() {
    Instant t = now();
    for (int i = 0; i < 5; i++) {
      store.addEvent(
          new SandboxEvent("ie", t.plusSeconds(i), "info", "line " + i, Map.of("i", "" + i)));
    }
    store.addEvent(new SandboxEvent("other", t, "info", "x", Map.of()));
    assertThat(store.events("ie", t.plusSeconds(1), 2, true))
        .extracting(SandboxEvent::message)
        .containsExactly("line 1", "line 2");
    assertThat(store.events("ie", t.plusSeconds(3), 10, false))
        .extracting(SandboxEvent::message)
        .containsExactly("line 3", "line 2", "line 1", "line 0");
    assertThat(store.events("ie", t, 1, true).getFirst().fields()).containsEntry("i", "0");
  }
}
