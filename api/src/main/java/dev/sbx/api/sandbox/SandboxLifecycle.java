package dev.sbx.api.sandbox;

import com.google.protobuf.Timestamp;
import dev.sbx.api.auth.Caller;
import dev.sbx.api.http.ApiException;
import dev.sbx.api.node.Node;
import dev.sbx.api.node.NodeRegistry;
import dev.sbx.api.store.SandboxEvent;
import dev.sbx.api.store.SandboxRecord;
import dev.sbx.api.store.SandboxState;
import dev.sbx.api.store.Store;
import dev.sbx.api.store.Team;
import dev.sbx.api.store.TemplateRecord;
import dev.sbx.proto.orchestrator.CreateSandboxRequest;
import dev.sbx.proto.orchestrator.DeleteSandboxRequest;
import dev.sbx.proto.orchestrator.EgressPolicy;
import dev.sbx.proto.orchestrator.Sandbox;
import dev.sbx.proto.orchestrator.UpdateSandboxRequest;
import dev.sbx.proxy.catalog.Catalog;
import dev.sbx.proxy.catalog.CatalogEntry;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The life of sandboxes: create (reserve against the team's concurrency, place, create on the node,
 * route), TTL changes (§5.3), kill, the evictor that kills at {@code endAt}, and the reconciliation
 * with what each node really runs.
 */
public final class SandboxLifecycle implements NodeRegistry.Listener, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SandboxLifecycle.class);

  /** E2B's constant {@code clientID}. */
  public static final String CLIENT_ID = "6532622b";

  /** The node deletes a sandbox this long after the API's end time, should the API be gone. */
  static final Duration NODE_END_GRACE = Duration.ofSeconds(30);

  private static final Duration CREATE_DEADLINE = Duration.ofSeconds(60);
  private static final Duration CALL_DEADLINE = Duration.ofSeconds(10);

  private final Store store;
  private final NodeRegistry nodes;
  private final Catalog catalog;
  private final Tokens tokens;
  private final ScheduledExecutorService evictor =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofVirtual().name("sbx-api-evictor").factory());

  public SandboxLifecycle(Store store, NodeRegistry nodes, Catalog catalog, Tokens tokens) {
    this.store = store;
    this.nodes = nodes;
    this.catalog = catalog;
    this.tokens = tokens;
  }

  /** Starts the evictor: every {@code interval}, kills running sandboxes past their end time. */
  public void startEvictor(Duration interval) {
    evictor.scheduleWithFixedDelay(
        this::evictExpired, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  void evictExpired() {
    try {
      for (SandboxRecord sandbox : store.expired(Instant.now())) {
        kill(sandbox, "timeout");
      }
    } catch (RuntimeException e) {
      LOG.warn("evicting expired sandboxes failed", e);
    }
  }

  static Instant now() {
    return Instant.now().truncatedTo(ChronoUnit.MICROS);
  }

  static Timestamp timestamp(Instant instant) {
    return Timestamp.newBuilder()
        .setSeconds(instant.getEpochSecond())
        .setNanos(instant.getNano())
        .build();
  }

  private void event(String sandboxId, String level, String message, Map<String, String> fields) {
    try {
      store.addEvent(new SandboxEvent(sandboxId, now(), level, message, fields));
    } catch (RuntimeException e) {
      LOG.warn("recording an event of {} failed", sandboxId, e);
    }
  }

  /** What a create or connect returns. */
  public record Started(SandboxRecord sandbox, boolean created) {}

  // create

  /** Creates a sandbox; blocks until it runs. */
  public SandboxRecord create(
      Caller caller, NewSandbox request, TemplateRecord template, @Nullable String alias) {
    Team team = caller.team();
    String id = SandboxIds.generate();
    Instant requested = now();
    String envdToken = request.secure() ? tokens.envdAccessToken(id) : null;
    String trafficToken = request.allowPublicTraffic() ? null : tokens.trafficAccessToken(id);
    SandboxRecord reserved =
        new SandboxRecord(
            id,
            team.id(),
            template.id(),
            alias,
            "",
            SandboxState.STARTING,
            requested,
            requested.plusSeconds(request.timeoutSeconds()),
            null,
            null,
            template.cpuCount(),
            template.memoryMb(),
            template.diskSizeMb(),
            template.envdVersion(),
            request.metadata(),
            envdToken,
            trafficToken,
            request.allowInternetAccess(),
            request.networkJson(),
            false,
            request.autoResume());
    List<Node> candidates = nodes.candidates(template.id());
    if (candidates.isEmpty()) {
      throw new ApiException(
          503,
          nodes.healthyNodes().isEmpty()
              ? "Failed to place sandbox: no node is available"
              : "Failed to place sandbox: no node can run template '" + template.id() + "'",
          "sandbox_no_compatible_node",
          null);
    }
    if (!store.reserveSandbox(reserved, team.limits().concurrentSandboxes())) {
      throw new ApiException(
          429,
          "you have reached the maximum number of concurrent E2B sandboxes ("
              + team.limits().concurrentSandboxes()
              + "). If you need more, please contact us at 'https://e2b.dev/docs/getting-help'");
    }
    CreateSandboxRequest create =
        CreateSandboxRequest.newBuilder()
            .setSandboxId(id)
            .setTemplateId(template.id())
            .setCpuCount(template.cpuCount())
            .setMemoryMb(template.memoryMb())
            .putAllEnvVars(request.envVars())
            .putAllMetadata(request.metadata())
            .setEnvdAccessToken(envdToken == null ? "" : envdToken)
            .setEndTime(
                timestamp(requested.plusSeconds(request.timeoutSeconds()).plus(NODE_END_GRACE)))
            .setEgress(egress(request))
            .build();
    boolean exhausted = false;
    ApiException failure = null;
    for (Node node : candidates) {
      Sandbox created;
      try {
        created = node.sandboxes(CREATE_DEADLINE).create(create);
      } catch (StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        LOG.info("node {} did not create {}: {}", node.id(), id, e.getStatus());
        if (code == Status.Code.RESOURCE_EXHAUSTED) {
          exhausted = true;
          continue;
        }
        if (code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED) {
          continue;
        }
        failure = createError(code, e.getStatus().getDescription(), template);
        break;
      }
      Instant startedAt = now();
      Instant endAt = startedAt.plusSeconds(request.timeoutSeconds());
      if (!store.markRunning(id, node.id(), startedAt, endAt)) {
        deleteOnNode(node, id);
        throw new ApiException(
            500, "Sandbox was killed while it started", "sandbox_create_failed", null);
      }
      catalog.put(
          new CatalogEntry(
              id,
              node.id(),
              node.address().proxyHost(),
              node.address().proxyPort(),
              trafficToken,
              CatalogEntry.RouteState.RUNNING,
              envdToken));
      store.templateSpawned(template.id(), startedAt);
      event(
          id,
          "info",
          "Sandbox created",
          Map.of("node", node.id(), "template", template.id(), "address", created.getAddress()));
      return store.sandbox(id).orElseThrow();
    }
    store.markKilled(id, now(), "start failed");
    if (failure == null) {
      failure =
          exhausted
              ? new ApiException(
                  503,
                  "Failed to place sandbox: every node is at capacity",
                  "sandbox_capacity_unavailable",
                  null)
              : new ApiException(
                  503,
                  "Failed to place sandbox: no node is reachable",
                  "sandbox_no_compatible_node",
                  null);
    }
    event(id, "error", "Sandbox failed to start: " + failure.getMessage(), Map.of());
    throw failure;
  }

  private static ApiException createError(
      Status.Code code, @Nullable String description, TemplateRecord template) {
    String detail = description == null ? code.name() : description;
    return switch (code) {
      case FAILED_PRECONDITION, NOT_FOUND ->
          ApiException.notFound("template '" + template.id() + "' not found");
      case INVALID_ARGUMENT, OUT_OF_RANGE -> ApiException.badRequest(detail);
      case ALREADY_EXISTS -> new ApiException(409, detail);
      default ->
          new ApiException(
              500, "Failed to create sandbox: " + detail, "sandbox_create_failed", null);
    };
  }

  private static EgressPolicy egress(NewSandbox request) {
    boolean internet = request.allowInternetAccess();
    List<String> denied = new ArrayList<>();
    for (String cidr : request.denyOut()) {
      if (cidr.equals("0.0.0.0/0")) {
        internet = false;
      } else {
        denied.add(cidr);
      }
    }
    return EgressPolicy.newBuilder()
        .setInternetAccess(internet)
        .addAllAllowedCidrs(request.allowOut())
        .addAllDeniedCidrs(denied)
        .build();
  }

  // lookups

  /** A running sandbox of the caller's team on a healthy node, or 404. */
  public SandboxRecord running(Caller caller, String sandboxId) {
    Optional<SandboxRecord> found = store.sandbox(sandboxId);
    if (found.isEmpty()
        || !found.get().teamId().equals(caller.team().id())
        || found.get().state() != SandboxState.RUNNING
        || !nodes.healthy(found.get().nodeId())) {
      throw notFound(sandboxId);
    }
    return found.get();
  }

  /** A sandbox of the caller's team in any state (for logs), or 404. */
  public SandboxRecord any(Caller caller, String sandboxId) {
    return store
        .sandbox(sandboxId)
        .filter(s -> s.teamId().equals(caller.team().id()))
        .orElseThrow(() -> notFound(sandboxId));
  }

  public static ApiException notFound(String sandboxId) {
    return ApiException.notFound(
        "Sandbox \"" + sandboxId + "\" doesn't exist or you don't have access to it");
  }

  // TTL (§5.3)

  /** Sets or extends {@code endAt}; {@code extendOnly} for connect and refresh. */
  public SandboxRecord changeEnd(Caller caller, String sandboxId, int seconds, boolean extendOnly) {
    SandboxRecord sandbox = running(caller, sandboxId);
    Instant now = now();
    Instant maxEnd =
        sandbox.startedAt().plus(caller.team().limits().maxLengthHours(), ChronoUnit.HOURS);
    if (!now.isBefore(maxEnd)) {
      throw ApiException.badRequest("Max instance length exceeded");
    }
    Instant wanted = now.plusSeconds(Math.max(0, seconds));
    if (wanted.isAfter(maxEnd)) {
      wanted = maxEnd;
    }
    if (extendOnly && !wanted.isAfter(sandbox.endAt())) {
      return sandbox;
    }
    Node node = nodes.node(sandbox.nodeId()).orElseThrow(() -> notFound(sandboxId));
    try {
      node.sandboxes(CALL_DEADLINE)
          .update(
              UpdateSandboxRequest.newBuilder()
                  .setSandboxId(sandboxId)
                  .setEndTime(timestamp(wanted.plus(NODE_END_GRACE)))
                  .build());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        gone(sandbox, "sandbox gone from its node");
        throw notFound(sandboxId);
      }
      throw new ApiException(502, "The sandbox's node did not answer: " + e.getStatus().getCode());
    }
    if (!store.updateEndAt(sandboxId, wanted)) {
      throw notFound(sandboxId);
    }
    event(sandboxId, "info", "Sandbox end time set", Map.of("endAt", wanted.toString()));
    return sandbox.withEndAt(wanted);
  }

  // kill

  /** Kills a running sandbox of the caller's team; 404 if there is none. */
  public void kill(Caller caller, String sandboxId) {
    Optional<SandboxRecord> found = store.sandbox(sandboxId);
    if (found.isEmpty()
        || !found.get().teamId().equals(caller.team().id())
        || found.get().state() != SandboxState.RUNNING) {
      throw notFound(sandboxId);
    }
    if (!kill(found.get(), "killed")) {
      throw notFound(sandboxId);
    }
  }

  /** Marks killed (once), deletes on the node, forgets the route. */
  boolean kill(SandboxRecord sandbox, String reason) {
    if (!store.markKilled(sandbox.id(), now(), reason)) {
      return false;
    }
    catalog.remove(sandbox.id());
    event(sandbox.id(), "info", "Sandbox killed", Map.of("reason", reason));
    nodes.node(sandbox.nodeId()).ifPresent(node -> deleteOnNode(node, sandbox.id()));
    return true;
  }

  private static void deleteOnNode(Node node, String sandboxId) {
    try {
      node.sandboxes(CALL_DEADLINE)
          .delete(DeleteSandboxRequest.newBuilder().setSandboxId(sandboxId).build());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
        // the node's next check deletes it as an orphan
        LOG.warn("deleting {} on node {} failed: {}", sandboxId, node.id(), e.getStatus());
      }
    }
  }

  private void gone(SandboxRecord sandbox, String reason) {
    if (store.markKilled(sandbox.id(), now(), reason)) {
      catalog.remove(sandbox.id());
      event(sandbox.id(), "warn", "Sandbox ended: " + reason, Map.of());
    }
  }

  // reconciliation

  @Override
  public void nodeChecked(Node node, List<Sandbox> onNode, Instant listedAt) {
    Set<String> present = new HashSet<>();
    for (Sandbox s : onNode) {
      present.add(s.getSandboxId());
    }
    Set<String> known = new HashSet<>();
    for (SandboxRecord sandbox : store.sandboxes(SandboxState.RUNNING)) {
      if (!sandbox.nodeId().equals(node.id())) {
        continue;
      }
      known.add(sandbox.id());
      // one that started after the node was asked may be missing from its answer
      if (!present.contains(sandbox.id()) && sandbox.startedAt().isBefore(listedAt)) {
        gone(sandbox, "sandbox gone from its node");
      }
    }
    for (SandboxRecord starting : store.sandboxes(SandboxState.STARTING)) {
      known.add(starting.id());
    }
    for (String id : present) {
      if (!known.contains(id)) {
        Optional<SandboxRecord> record = store.sandbox(id);
        if (record.isEmpty() || record.get().state() == SandboxState.KILLED) {
          LOG.info("deleting sandbox {} on node {}: the API does not run it", id, node.id());
          deleteOnNode(node, id);
        }
      }
    }
  }

  @Override
  public void nodeUnhealthy(Node node) {
    // its sandboxes leave listings and lookups (they check the node's health) until it is back
  }

  @Override
  public void close() {
    evictor.shutdownNow();
    try {
      evictor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
