package dev.sbx.api.sandbox;

import dev.sbx.api.auth.Caller;
import dev.sbx.api.http.ApiException;
import dev.sbx.api.node.Node;
import dev.sbx.api.node.NodeRegistry;
import dev.sbx.api.store.SandboxRecord;
import dev.sbx.api.store.SandboxState;
import dev.sbx.api.store.SnapshotRecord;
import dev.sbx.api.store.Store;
import dev.sbx.api.store.Team;
import dev.sbx.proto.orchestrator.CreateSandboxRequest;
import dev.sbx.proto.orchestrator.CreateSnapshotRequest;
import dev.sbx.proto.orchestrator.DeleteSnapshotRequest;
import dev.sbx.proto.orchestrator.EgressPolicy;
import dev.sbx.proto.orchestrator.ForkResult;
import dev.sbx.proto.orchestrator.ForkSandboxRequest;
import dev.sbx.proto.orchestrator.ForkSandboxResponse;
import dev.sbx.proto.orchestrator.GetSandboxRequest;
import dev.sbx.proto.orchestrator.Snapshot;
import dev.sbx.proxy.catalog.Catalog;
import dev.sbx.proxy.catalog.CatalogEntry;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Snapshots ({@code POST /sandboxes/{id}/snapshots}, {@code GET /snapshots}, {@code DELETE
 * /templates/{snapshot}}, creating sandboxes from one) and fork ({@code POST
 * /sandboxes/{id}/fork}). A snapshot stays on the node it was taken on; sandboxes made from it
 * start there.
 */
public final class SandboxSnapshots {
  private static final Logger LOG = LoggerFactory.getLogger(SandboxSnapshots.class);
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-_]{0,127}");
  private static final Duration FORK_DEADLINE = Duration.ofSeconds(180);
  private static final Duration CALL_DEADLINE = Duration.ofSeconds(10);

  private final Store store;
  private final NodeRegistry nodes;
  private final Catalog catalog;
  private final Tokens tokens;
  private final SandboxLifecycle lifecycle;

  public SandboxSnapshots(
      Store store, NodeRegistry nodes, Catalog catalog, Tokens tokens, SandboxLifecycle lifecycle) {
    this.store = store;
    this.nodes = nodes;
    this.catalog = catalog;
    this.tokens = tokens;
    this.lifecycle = lifecycle;
  }

  // names

  /**
   * E2B's {@code snapshotID}: {@code <team-slug>/<name>:default} when named, else {@code
   * <id>:default}.
   */
  public static String snapshotId(SnapshotRecord snapshot, Team team) {
    String name = snapshot.name();
    return name == null ? snapshot.id() + ":default" : team.slug() + "/" + name + ":default";
  }

  /** E2B's {@code names}: the full name when named, else none. */
  public static List<String> names(SnapshotRecord snapshot, Team team) {
    return snapshot.name() == null ? List.of() : List.of(snapshotId(snapshot, team));
  }

  /**
   * The caller's snapshot a template name ({@code [namespace/]name-or-id[:default]}) refers to, if
   * any: by name first, then by id. A namespace other than the team's, or another tag, is none.
   */
  public Optional<SnapshotRecord> resolve(Caller caller, String templateName) {
    String reference = templateName.trim().toLowerCase(Locale.ROOT);
    int colon = reference.indexOf(':');
    if (colon >= 0) {
      if (!reference.substring(colon + 1).equals("default")) {
        return Optional.empty();
      }
      reference = reference.substring(0, colon);
    }
    int slash = reference.indexOf('/');
    if (slash >= 0) {
      if (!reference.substring(0, slash).equals(caller.team().slug())) {
        return Optional.empty();
      }
      reference = reference.substring(slash + 1);
    }
    String teamId = caller.team().id();
    Optional<SnapshotRecord> byName = store.snapshotByName(teamId, reference);
    if (byName.isPresent()) {
      return byName;
    }
    return store.snapshot(reference).filter(s -> s.teamId().equals(teamId));
  }

  // create, list, delete

  /** Takes a snapshot of a running sandbox of the caller's team (it keeps running). */
  public SnapshotRecord create(Caller caller, String sandboxId, @Nullable String requestedName) {
    String name = null;
    if (requestedName != null) {
      name = requestedName.trim().toLowerCase(Locale.ROOT);
      if (name.endsWith(":default")) {
        name = name.substring(0, name.length() - ":default".length());
      }
      if (!NAME.matcher(name).matches()) {
        throw ApiException.badRequest(
            "Invalid snapshot name '"
                + requestedName
                + "': 1 to 128 of [a-z0-9-_], starting with a letter or digit (no tag)");
      }
    }
    SandboxRecord sandbox = runningForCopy(caller, sandboxId);
    Node node = node(sandbox);
    String id = SandboxIds.generate().substring(1);
    Snapshot taken;
    try {
      taken =
          node.sandboxes(SandboxLifecycle.PAUSE_DEADLINE)
              .createSnapshot(
                  CreateSnapshotRequest.newBuilder()
                      .setSandboxId(sandboxId)
                      .setSnapshotId(id)
                      .build());
    } catch (StatusRuntimeException e) {
      throw copyError(sandboxId, "snapshot", e);
    }
    SnapshotRecord snapshot =
        new SnapshotRecord(
            id,
            caller.team().id(),
            name,
            sandboxId,
            sandbox.templateId(),
            node.id(),
            sandbox.cpuCount(),
            sandbox.memoryMb(),
            sandbox.diskSizeMb(),
            sandbox.envdVersion(),
            taken.getMemoryKept(),
            taken.getSizeBytes(),
            SandboxLifecycle.now());
    store
        .putSnapshot(snapshot)
        .ifPresent(
            replaced ->
                nodes.node(replaced.nodeId()).ifPresent(n -> deleteOnNode(n, replaced.id())));
    lifecycle.event(
        sandboxId,
        "info",
        "Snapshot taken",
        Map.of("snapshot", id, "memoryKept", String.valueOf(taken.getMemoryKept())));
    return snapshot;
  }

  /** The caller's snapshots, newest first, optionally of one sandbox and/or with one name. */
  public List<SnapshotRecord> list(
      Caller caller, @Nullable String sandboxId, @Nullable String name) {
    String wanted = null;
    if (name != null) {
      Optional<SnapshotRecord> named = resolve(caller, name);
      if (named.isEmpty()) {
        return List.of();
      }
      wanted = named.get().id();
    }
    List<SnapshotRecord> result = new ArrayList<>();
    for (SnapshotRecord s : store.snapshots(caller.team().id())) {
      if ((sandboxId == null || s.sandboxId().equals(sandboxId))
          && (wanted == null || s.id().equals(wanted))) {
        result.add(s);
      }
    }
    return result;
  }

  /** Deletes a snapshot of the caller's team by id or name; false if there is none. */
  public boolean delete(Caller caller, String snapshotName) {
    Optional<SnapshotRecord> found = resolve(caller, snapshotName);
    if (found.isEmpty()) {
      return false;
    }
    SnapshotRecord snapshot = found.get();
    if (!store.deleteSnapshot(snapshot.id())) {
      return false;
    }
    nodes.node(snapshot.nodeId()).ifPresent(n -> deleteOnNode(n, snapshot.id()));
    return true;
  }

  private static void deleteOnNode(Node node, String snapshotId) {
    try {
      node.sandboxes(CALL_DEADLINE)
          .deleteSnapshot(DeleteSnapshotRequest.newBuilder().setSnapshotId(snapshotId).build());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
        LOG.warn(
            "deleting snapshot {} on node {} failed: {}", snapshotId, node.id(), e.getStatus());
      }
    }
  }

  private SandboxRecord runningForCopy(Caller caller, String sandboxId) {
    Optional<SandboxRecord> found =
        store.sandbox(sandboxId).filter(s -> s.teamId().equals(caller.team().id()));
    if (found.isPresent() && found.get().shownPaused()) {
      throw new ApiException(409, "Sandbox \"" + sandboxId + "\" is paused; connect to it first");
    }
    return lifecycle.running(caller, sandboxId);
  }

  private Node node(SandboxRecord sandbox) {
    return nodes
        .node(sandbox.nodeId())
        .filter(Node::healthy)
        .orElseThrow(() -> SandboxLifecycle.notFound(sandbox.id()));
  }

  private static ApiException copyError(String sandboxId, String what, StatusRuntimeException e) {
    Status.Code code = e.getStatus().getCode();
    String detail =
        e.getStatus().getDescription() == null ? code.name() : e.getStatus().getDescription();
    return switch (code) {
      case NOT_FOUND -> SandboxLifecycle.notFound(sandboxId);
      case FAILED_PRECONDITION, ALREADY_EXISTS, ABORTED ->
          new ApiException(409, "Sandbox \"" + sandboxId + "\" cannot be copied now: " + detail);
      case RESOURCE_EXHAUSTED ->
          new ApiException(
              507, "Error taking a " + what + " of sandbox '" + sandboxId + "': " + detail);
      case UNAVAILABLE, DEADLINE_EXCEEDED ->
          new ApiException(503, "The sandbox's node did not answer: " + code);
      default ->
          new ApiException(
              500,
              "Error taking a " + what + " of sandbox '" + sandboxId + "': " + detail,
              "internal_server_error",
              null);
    };
  }

  // fork

  /** One child of a fork: its record, or the error it failed with. */
  public record Forked(@Nullable SandboxRecord sandbox, int errorCode, String errorMessage) {}

  /**
   * Forks a running sandbox of the caller's team into {@code count} children from one checkpoint.
   * Each child is reserved against the team's limit (the ones past it fail with 429 and are not
   * started) and runs for {@code timeoutSeconds}.
   */
  public List<Forked> fork(Caller caller, String sandboxId, int timeoutSeconds, int count) {
    SandboxRecord parent = runningForCopy(caller, sandboxId);
    Node node = node(parent);
    EgressPolicy egress;
    try {
      egress =
          node.sandboxes(CALL_DEADLINE)
              .get(GetSandboxRequest.newBuilder().setSandboxId(sandboxId).build())
              .getEgress();
    } catch (StatusRuntimeException e) {
      throw copyError(sandboxId, "fork", e);
    }
    Team team = caller.team();
    Instant requested = SandboxLifecycle.now();
    List<Forked> results = new ArrayList<>();
    List<SandboxRecord> reserved = new ArrayList<>();
    List<Integer> positions = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String id = SandboxIds.generate();
      SandboxRecord child =
          new SandboxRecord(
              id,
              team.id(),
              parent.templateId(),
              parent.alias(),
              "",
              SandboxState.STARTING,
              requested,
              requested.plusSeconds(timeoutSeconds),
              null,
              null,
              parent.cpuCount(),
              parent.memoryMb(),
              parent.diskSizeMb(),
              parent.envdVersion(),
              parent.metadata(),
              parent.envdAccessToken() == null ? null : tokens.envdAccessToken(id),
              parent.trafficAccessToken() == null ? null : tokens.trafficAccessToken(id),
              parent.allowInternetAccess(),
              parent.networkJson(),
              parent.autoPause(),
              parent.autoResume(),
              parent.autoPauseMemory(),
              timeoutSeconds,
              null,
              null);
      if (store.reserveSandbox(child, team.limits().concurrentSandboxes())) {
        reserved.add(child);
        positions.add(i);
        results.add(null);
      } else {
        ApiException limit = SandboxLifecycle.concurrencyLimit(team);
        results.add(new Forked(null, 429, limit.message()));
      }
    }
    if (reserved.isEmpty()) {
      return results;
    }
    ForkSandboxRequest.Builder request = ForkSandboxRequest.newBuilder().setSandboxId(sandboxId);
    for (SandboxRecord child : reserved) {
      request.addChildren(
          CreateSandboxRequest.newBuilder()
              .setSandboxId(child.id())
              .setTemplateId(child.templateId())
              .setCpuCount(child.cpuCount())
              .setMemoryMb(child.memoryMb())
              .putAllMetadata(child.metadata())
              .setEnvdAccessToken(child.envdAccessToken() == null ? "" : child.envdAccessToken())
              .setEndTime(
                  SandboxLifecycle.timestamp(
                      requested.plusSeconds(timeoutSeconds).plus(SandboxLifecycle.NODE_END_GRACE)))
              .setEgress(egress)
              .build());
    }
    ForkSandboxResponse response;
    try {
      response = node.sandboxes(FORK_DEADLINE).fork(request.build());
    } catch (StatusRuntimeException e) {
      for (SandboxRecord child : reserved) {
        store.markKilled(child.id(), SandboxLifecycle.now(), "start failed");
      }
      throw copyError(sandboxId, "fork", e);
    }
    for (int k = 0; k < reserved.size(); k++) {
      SandboxRecord child = reserved.get(k);
      ForkResult result = k < response.getResultsCount() ? response.getResults(k) : null;
      Forked forked;
      if (result != null && result.hasSandbox()) {
        Instant startedAt = SandboxLifecycle.now();
        if (store.markRunning(
            child.id(), node.id(), startedAt, startedAt.plusSeconds(timeoutSeconds))) {
          catalog.put(SandboxLifecycle.route(child, node, CatalogEntry.RouteState.RUNNING));
          lifecycle.event(
              child.id(), "info", "Sandbox forked", Map.of("parent", sandboxId, "node", node.id()));
          forked = new Forked(store.sandbox(child.id()).orElseThrow(), 0, "");
        } else {
          SandboxLifecycle.deleteOnNode(node, child.id());
          forked = new Forked(null, 500, "Sandbox was killed while it started");
        }
      } else {
        store.markKilled(child.id(), SandboxLifecycle.now(), "start failed");
        Status.Code code =
            result == null
                ? Status.Code.INTERNAL
                : Status.fromCodeValue(result.getErrorCode()).getCode();
        String message = result == null ? "the node reported no result" : result.getErrorMessage();
        forked = new Forked(null, httpStatus(code), "Failed to start forked sandbox: " + message);
      }
      results.set(positions.get(k), forked);
    }
    return results;
  }

  private static int httpStatus(Status.Code code) {
    return switch (code) {
      case NOT_FOUND -> 404;
      case INVALID_ARGUMENT -> 400;
      case ALREADY_EXISTS, FAILED_PRECONDITION, ABORTED -> 409;
      case RESOURCE_EXHAUSTED, UNAVAILABLE -> 503;
      default -> 500;
    };
  }
}
