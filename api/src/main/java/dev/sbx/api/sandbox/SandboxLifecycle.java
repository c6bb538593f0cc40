package dev.sbx.api.sandbox;

import com.google.protobuf.Timestamp;
import dev.sbx.api.auth.Caller;
import dev.sbx.api.http.ApiException;
import dev.sbx.api.node.Node;
import dev.sbx.api.node.NodeRegistry;
import dev.sbx.api.store.SandboxEvent;
import dev.sbx.api.store.SandboxRecord;
import dev.sbx.api.store.SandboxState;
import dev.sbx.api.store.SnapshotRecord;
import dev.sbx.api.store.Store;
import dev.sbx.api.store.Team;
import dev.sbx.api.store.TemplateRecord;
import dev.sbx.proto.orchestrator.CreateSandboxRequest;
import dev.sbx.proto.orchestrator.DeletePausedRequest;
import dev.sbx.proto.orchestrator.DeleteSandboxRequest;
import dev.sbx.proto.orchestrator.EgressPolicy;
import dev.sbx.proto.orchestrator.GetSandboxRequest;
import dev.sbx.proto.orchestrator.ListPausedRequest;
import dev.sbx.proto.orchestrator.PauseSandboxRequest;
import dev.sbx.proto.orchestrator.PausedSandbox;
import dev.sbx.proto.orchestrator.ResumeSandboxRequest;
import dev.sbx.proto.orchestrator.Sandbox;
import dev.sbx.proto.orchestrator.UpdateSandboxRequest;
import dev.sbx.proxy.catalog.Catalog;
import dev.sbx.proxy.catalog.CatalogEntry;
import dev.sbx.proxy.resume.ResumeRequest;
import dev.sbx.proxy.resume.ResumeResult;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The life of sandboxes: create (reserve against the team's concurrency, place, create on the node,
 * route), TTL changes (§5.3), pause and resume (§5.4: on the node that holds the saved state, each
 * step a compare-and-set of the store's state, so one sandbox is never paused and resumed at once),
 * auto-resume for the client proxy (§3.2), kill (also of paused sandboxes), the evictor that kills
 * or pauses at {@code endAt}, and the reconciliation with what each node really runs.
 */
public final class SandboxLifecycle implements NodeRegistry.Listener, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SandboxLifecycle.class);

  /** E2B's constant {@code clientID}. */
  public static final String CLIENT_ID = "6532622b";

  /** The node deletes a sandbox this long after the API's end time, should the API be gone. */
  static final Duration NODE_END_GRACE = Duration.ofSeconds(30);

  private static final Duration CREATE_DEADLINE = Duration.ofSeconds(60);
  private static final Duration CALL_DEADLINE = Duration.ofSeconds(10);

  /** A checkpoint of a large sandbox takes a while. */
  static final Duration PAUSE_DEADLINE = Duration.ofSeconds(120);

  /** How long a resume or connect waits out a pause or resume in progress (E2B: 1 min). */
  static final Duration TRANSITION_WAIT = Duration.ofSeconds(60);

  /** E2B's minimum auto-resume timeout. */
  static final int MIN_AUTO_RESUME_SECONDS = 300;

  /** envd's port: auto-resume checks the envd token there, the traffic token elsewhere. */
  static final int ENVD_PORT = 49983;

  private final Store store;
  private final NodeRegistry nodes;
  private final Catalog catalog;
  private final Tokens tokens;
  private final ScheduledExecutorService evictor =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofVirtual().name("sbx-api-evictor").factory());
  private final ExecutorService autoPauses =
      Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("sbx-api-autopause").factory());

  public SandboxLifecycle(Store store, NodeRegistry nodes, Catalog catalog, Tokens tokens) {
    this.store = store;
    this.nodes = nodes;
    this.catalog = catalog;
    this.tokens = tokens;
  }

  /**
   * Starts the evictor: every {@code interval}, kills running sandboxes past their end time, or
   * pauses those created with {@code autoPause} (killing them if the pause fails).
   */
  public void startEvictor(Duration interval) {
    evictor.scheduleWithFixedDelay(
        this::evictExpired, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  void evictExpired() {
    try {
      for (SandboxRecord sandbox : store.expired(Instant.now())) {
        if (sandbox.autoPause()) {
          // a pause takes a while: one at a time would hold up the others' end
          autoPauses.execute(() -> autoPause(sandbox));
        } else {
          kill(sandbox, "timeout");
        }
      }
    } catch (RuntimeException e) {
      LOG.warn("evicting expired sandboxes failed", e);
    }
  }

  private void autoPause(SandboxRecord sandbox) {
    try {
      pauseRunning(sandbox, sandbox.autoPauseMemory(), "timeout");
    } catch (ApiException e) {
      if (e.status() == 409) {
        return; // paused, or being paused, by someone else
      }
      LOG.warn("auto-pausing {} failed ({}); killing it", sandbox.id(), e.getMessage());
      kill(sandbox, "timeout (pause failed: " + e.getMessage() + ")");
    } catch (RuntimeException e) {
      LOG.warn("auto-pausing {} failed; killing it", sandbox.id(), e);
      kill(sandbox, "timeout (pause failed)");
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

  void event(String sandboxId, String level, String message, Map<String, String> fields) {
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
    return create(caller, request, template, alias, null);
  }

  /**
   * Creates a sandbox, from {@code snapshot} when given (on the node that holds it; {@code
   * template} is then the snapshot's); blocks until it runs.
   */
  public SandboxRecord create(
      Caller caller,
      NewSandbox request,
      TemplateRecord template,
      @Nullable String alias,
      @Nullable SnapshotRecord snapshot) {
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
            request.autoPause(),
            request.autoResume(),
            request.autoPauseMemory(),
            request.timeoutSeconds(),
            null,
            null);
    List<Node> candidates =
        snapshot == null
            ? nodes.candidates(template.id())
            : nodes.node(snapshot.nodeId()).filter(Node::healthy).stream().toList();
    if (candidates.isEmpty() && snapshot != null) {
      throw new ApiException(
          503,
          "Failed to place sandbox: the node that holds snapshot '"
              + snapshot.id()
              + "' is unavailable",
          "sandbox_no_compatible_node",
          null);
    }
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
      throw concurrencyLimit(team);
    }
    CreateSandboxRequest.Builder createBuilder =
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
            .setEgress(egress(request));
    if (snapshot != null) {
      createBuilder.setSnapshotId(snapshot.id());
    }
    CreateSandboxRequest create = createBuilder.build();
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
        failure =
            snapshot != null && code == Status.Code.NOT_FOUND
                ? ApiException.notFound("snapshot '" + snapshot.id() + "' not found on its node")
                : createError(code, e.getStatus().getDescription(), template);
        break;
      }
      Instant startedAt = now();
      Instant endAt = startedAt.plusSeconds(request.timeoutSeconds());
      if (!store.markRunning(id, node.id(), startedAt, endAt)) {
        deleteOnNode(node, id);
        throw new ApiException(
            500, "Sandbox was killed while it started", "sandbox_create_failed", null);
      }
      catalog.put(route(reserved, node, CatalogEntry.RouteState.RUNNING));
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

  /**
   * The catalog entry of a sandbox on {@code node}, with its {@code maskRequestHost} (from the
   * stored network object, so that every put (create, pause, resume, fork) carries it).
   */
  static CatalogEntry route(SandboxRecord sandbox, Node node, CatalogEntry.RouteState state) {
    return new CatalogEntry(
        sandbox.id(),
        node.id(),
        node.address().proxyHost(),
        node.address().proxyPort(),
        sandbox.trafficAccessToken(),
        state,
        sandbox.envdAccessToken(),
        MaskRequestHost.of(sandbox.networkJson()));
  }

  private void putRoute(SandboxRecord sandbox, Node node, CatalogEntry.RouteState state) {
    try {
      catalog.put(route(sandbox, node, state));
    } catch (RuntimeException e) {
      LOG.warn("writing the route of {} ({}) failed", sandbox.id(), state, e);
    }
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

  static EgressPolicy egress(NewSandbox request) {
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

  /**
   * A sandbox of the caller's team that {@code GET} shows: running on a healthy node, or paused
   * (pausing, paused, resuming); else 404.
   */
  public SandboxRecord visible(Caller caller, String sandboxId) {
    Optional<SandboxRecord> found =
        store.sandbox(sandboxId).filter(s -> s.teamId().equals(caller.team().id()));
    if (found.isPresent()
        && (found.get().shownPaused()
            || (found.get().state() == SandboxState.RUNNING
                && nodes.healthy(found.get().nodeId())))) {
      return found.get();
    }
    throw notFound(sandboxId);
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

  // pause and resume (§5.4)

  /**
   * Pauses a running sandbox of the caller's team (204). 404 unknown or killed; 409 already paused
   * or being paused or resumed, as E2B.
   */
  public SandboxRecord pause(Caller caller, String sandboxId, boolean memory) {
    SandboxRecord sandbox =
        store
            .sandbox(sandboxId)
            .filter(s -> s.teamId().equals(caller.team().id()))
            .orElseThrow(() -> notFound(sandboxId));
    return switch (sandbox.state()) {
      case STARTING, KILLED -> throw notFound(sandboxId);
      case PAUSING, PAUSED -> throw alreadyPaused(sandboxId);
      case RESUMING -> throw beingResumed(sandboxId);
      case RUNNING -> pauseRunning(sandbox, memory, "paused");
    };
  }

  private static ApiException alreadyPaused(String sandboxId) {
    return new ApiException(
        409, "Error pausing sandbox - sandbox '" + sandboxId + "' is already paused");
  }

  private static ApiException beingResumed(String sandboxId) {
    return new ApiException(409, "Sandbox \"" + sandboxId + "\" is being resumed");
  }

  /**
   * RUNNING → PAUSING → (the node saves it) → PAUSED; the route becomes TRANSITIONING, then PAUSED.
   * When the node cannot pause it and it still runs, it goes back to RUNNING.
   */
  SandboxRecord pauseRunning(SandboxRecord sandbox, boolean memory, String why) {
    String id = sandbox.id();
    Node node = nodes.node(sandbox.nodeId()).filter(Node::healthy).orElseThrow(() -> notFound(id));
    if (!store.transition(id, SandboxState.RUNNING, SandboxState.PAUSING)) {
      SandboxRecord now = store.sandbox(id).orElseThrow(() -> notFound(id));
      throw switch (now.state()) {
        case PAUSING, PAUSED -> alreadyPaused(id);
        case RESUMING -> beingResumed(id);
        default -> notFound(id);
      };
    }
    putRoute(sandbox, node, CatalogEntry.RouteState.TRANSITIONING);
    PausedSandbox paused;
    try {
      paused =
          node.sandboxes(PAUSE_DEADLINE)
              .pause(PauseSandboxRequest.newBuilder().setSandboxId(id).setMemory(memory).build());
    } catch (StatusRuntimeException e) {
      Optional<PausedSandbox> pausedAnyway = pausedOnNode(node, id);
      if (pausedAnyway.isPresent()) {
        // the node finished although the call failed (e.g. the deadline passed on the way back)
        paused = pausedAnyway.get();
      } else {
        throw pauseFailed(sandbox, node, e);
      }
    }
    if (!store.markPaused(id, now(), paused.getMemoryKept())) {
      // killed while its node saved it
      deletePausedOnNode(node, id);
      throw notFound(id);
    }
    putRoute(sandbox, node, CatalogEntry.RouteState.PAUSED);
    event(
        id,
        "info",
        "Sandbox paused",
        Map.of(
            "reason",
            why,
            "memoryKept",
            String.valueOf(paused.getMemoryKept()),
            "sizeBytes",
            String.valueOf(paused.getSizeBytes())));
    return store.sandbox(id).orElseThrow(() -> notFound(id));
  }

  private ApiException pauseFailed(SandboxRecord sandbox, Node node, StatusRuntimeException e) {
    String id = sandbox.id();
    Status.Code code = e.getStatus().getCode();
    String detail =
        e.getStatus().getDescription() == null ? code.name() : e.getStatus().getDescription();
    LOG.info("node {} did not pause {}: {}", node.id(), id, e.getStatus());
    boolean stillRuns = code != Status.Code.NOT_FOUND && runsOnNode(node, id);
    if (!stillRuns) {
      gone(sandbox, "sandbox gone from its node while pausing");
      return notFound(id);
    }
    if (store.transition(id, SandboxState.PAUSING, SandboxState.RUNNING)) {
      putRoute(sandbox, node, CatalogEntry.RouteState.RUNNING);
    } else {
      deleteOnNode(node, id); // killed meanwhile
    }
    event(id, "warn", "Sandbox pause failed: " + detail, Map.of());
    return switch (code) {
      case RESOURCE_EXHAUSTED ->
          new ApiException(
              507,
              "Error pausing sandbox - the node has no room for its saved state ("
                  + detail
                  + "); sandbox '"
                  + id
                  + "' keeps running");
      case FAILED_PRECONDITION -> alreadyPaused(id);
      default ->
          new ApiException(
              500,
              "Error pausing sandbox - " + detail + "; sandbox '" + id + "' keeps running",
              "internal_server_error",
              null);
    };
  }

  private static boolean runsOnNode(Node node, String sandboxId) {
    try {
      node.sandboxes(CALL_DEADLINE)
          .get(GetSandboxRequest.newBuilder().setSandboxId(sandboxId).build());
      return true;
    } catch (StatusRuntimeException e) {
      // a node that does not answer is assumed to still run it; its next check settles it
      return e.getStatus().getCode() != Status.Code.NOT_FOUND;
    }
  }

  private static Optional<PausedSandbox> pausedOnNode(Node node, String sandboxId) {
    try {
      return node
          .sandboxes(CALL_DEADLINE)
          .listPaused(ListPausedRequest.getDefaultInstance())
          .getSandboxesList()
          .stream()
          .filter(p -> p.getSandboxId().equals(sandboxId))
          .findFirst();
    } catch (StatusRuntimeException e) {
      return Optional.empty();
    }
  }

  /**
   * Resume ({@code connect == false}: E2B's deprecated {@code /resume}, 409 when running) or
   * connect (extends a running sandbox's end time, 200; resumes a paused one, 201). Waits out a
   * pause or resume in progress for up to {@link #TRANSITION_WAIT}.
   */
  public Started resume(Caller caller, String sandboxId, int timeoutSeconds, boolean connect) {
    Instant deadline = Instant.now().plus(TRANSITION_WAIT);
    while (true) {
      SandboxRecord sandbox =
          store
              .sandbox(sandboxId)
              .filter(s -> s.teamId().equals(caller.team().id()))
              .orElseThrow(() -> notFound(sandboxId));
      switch (sandbox.state()) {
        case KILLED -> throw notFound(sandboxId);
        case RUNNING -> {
          if (!nodes.healthy(sandbox.nodeId())) {
            throw notFound(sandboxId);
          }
          if (!connect) {
            throw new ApiException(409, "Sandbox " + sandboxId + " is already running");
          }
          return new Started(changeEnd(caller, sandboxId, timeoutSeconds, true), false);
        }
        case PAUSED -> {
          SandboxRecord resumed = resumePaused(sandbox, caller.team(), timeoutSeconds);
          if (resumed != null) {
            return new Started(resumed, true);
          }
        }
        case STARTING, PAUSING, RESUMING -> {
          if (Instant.now().isAfter(deadline)) {
            throw new ApiException(
                409, "Sandbox \"" + sandboxId + "\" is still transitioning, try again");
          }
          pauseBriefly();
        }
      }
    }
  }

  private static void pauseBriefly() {
    try {
      Thread.sleep(50);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiException(503, "Interrupted while waiting for a sandbox's transition");
    }
  }

  /**
   * PAUSED → RESUMING (reserved against the team's limit) → (the node that holds the saved state
   * starts it) → RUNNING; null when it was not paused any more (the caller looks again).
   */
  private @Nullable SandboxRecord resumePaused(
      SandboxRecord sandbox, Team team, int timeoutSeconds) {
    String id = sandbox.id();
    Node node =
        nodes
            .node(sandbox.nodeId())
            .filter(Node::healthy)
            .orElseThrow(
                () ->
                    new ApiException(
                        503,
                        "The node that holds the saved state of sandbox '"
                            + id
                            + "' is unavailable",
                        "sandbox_no_compatible_node",
                        null));
    switch (store.reserveResume(id, team.limits().concurrentSandboxes())) {
      case NOT_PAUSED -> {
        return null;
      }
      case LIMIT_REACHED -> throw concurrencyLimit(team);
      case RESERVED -> {}
    }
    putRoute(sandbox, node, CatalogEntry.RouteState.TRANSITIONING);
    Instant requested = now();
    Sandbox resumed;
    try {
      ResumeSandboxRequest.Builder request =
          ResumeSandboxRequest.newBuilder()
              .setSandboxId(id)
              .setEndTime(timestamp(requested.plusSeconds(timeoutSeconds).plus(NODE_END_GRACE)));
      if (sandbox.envdAccessToken() != null) {
        request.setEnvdAccessToken(sandbox.envdAccessToken());
      }
      resumed = node.sandboxes(CREATE_DEADLINE).resume(request.build());
    } catch (StatusRuntimeException e) {
      Status.Code code = e.getStatus().getCode();
      String detail =
          e.getStatus().getDescription() == null ? code.name() : e.getStatus().getDescription();
      LOG.info("node {} did not resume {}: {}", node.id(), id, e.getStatus());
      if (code == Status.Code.NOT_FOUND) {
        if (store.markKilled(id, now(), "saved state gone from its node")) {
          catalog.remove(id);
          event(id, "warn", "Sandbox ended: its saved state is gone from its node", Map.of());
        }
        throw notFound(id);
      }
      if (store.transition(id, SandboxState.RESUMING, SandboxState.PAUSED)) {
        putRoute(sandbox, node, CatalogEntry.RouteState.PAUSED);
      } else {
        deletePausedOnNode(node, id); // killed meanwhile
      }
      event(id, "warn", "Sandbox resume failed: " + detail, Map.of());
      if (code == Status.Code.RESOURCE_EXHAUSTED) {
        throw new ApiException(
            503,
            "Failed to resume sandbox: its node is at capacity",
            "sandbox_capacity_unavailable",
            null);
      }
      throw new ApiException(
          500, "Failed to resume sandbox: " + detail, "sandbox_create_failed", null);
    }
    Instant startedAt = now();
    if (!store.markResumed(id, node.id(), startedAt, startedAt.plusSeconds(timeoutSeconds))) {
      deleteOnNode(node, id); // killed while it resumed
      throw notFound(id);
    }
    putRoute(sandbox, node, CatalogEntry.RouteState.RUNNING);
    event(
        id, "info", "Sandbox resumed", Map.of("node", node.id(), "address", resumed.getAddress()));
    return store.sandbox(id).orElseThrow(() -> notFound(id));
  }

  static ApiException concurrencyLimit(Team team) {
    return new ApiException(
        429,
        "you have reached the maximum number of concurrent E2B sandboxes ("
            + team.limits().concurrentSandboxes()
            + "). If you need more, please contact us at 'https://e2b.dev/docs/getting-help'");
  }

  /**
   * Auto-resume for the client proxy (§3.2 step 2): only a sandbox created with {@code
   * autoResume.enabled} whose memory was kept, after the token checks; waits out a transition; the
   * timeout is the create-time one, at least {@link #MIN_AUTO_RESUME_SECONDS}, at most the team's
   * maximum.
   */
  public ResumeResult autoResume(ResumeRequest request) {
    String id = request.sandboxId();
    Instant deadline = Instant.now().plus(TRANSITION_WAIT);
    while (true) {
      Optional<SandboxRecord> found = store.sandbox(id);
      if (found.isEmpty()
          || found.get().state() == SandboxState.KILLED
          || found.get().state() == SandboxState.STARTING) {
        return ResumeResult.refused(ResumeResult.Outcome.NOT_FOUND, "The sandbox was not found");
      }
      SandboxRecord sandbox = found.get();
      if (!tokensMatch(sandbox, request)) {
        return ResumeResult.refused(
            ResumeResult.Outcome.FORBIDDEN,
            "This sandbox can't be resumed with the credentials provided.");
      }
      Node node = nodes.node(sandbox.nodeId()).orElse(null);
      if (node == null) {
        return ResumeResult.refused(ResumeResult.Outcome.NOT_FOUND, "The sandbox was not found");
      }
      switch (sandbox.state()) {
        case RUNNING -> {
          return ResumeResult.resumed(route(sandbox, node, CatalogEntry.RouteState.RUNNING));
        }
        case PAUSED -> {
          if (!sandbox.autoResume() || Boolean.FALSE.equals(sandbox.memoryKept())) {
            return ResumeResult.refused(
                ResumeResult.Outcome.NOT_FOUND, "The sandbox was not found");
          }
          Team team = store.team(sandbox.teamId()).orElse(null);
          if (team == null) {
            return ResumeResult.refused(
                ResumeResult.Outcome.NOT_FOUND, "The sandbox was not found");
          }
          long seconds =
              Math.min(
                  Math.max(MIN_AUTO_RESUME_SECONDS, sandbox.timeoutSeconds()),
                  team.limits().maxLengthHours() * 3600L);
          try {
            SandboxRecord resumed = resumePaused(sandbox, team, (int) seconds);
            if (resumed != null) {
              return ResumeResult.resumed(route(resumed, node, CatalogEntry.RouteState.RUNNING));
            }
          } catch (ApiException e) {
            return switch (e.status()) {
              case 404 ->
                  ResumeResult.refused(ResumeResult.Outcome.NOT_FOUND, "The sandbox was not found");
              case 429 -> ResumeResult.refused(ResumeResult.Outcome.LIMIT_REACHED, e.message());
              default -> ResumeResult.refused(ResumeResult.Outcome.FAILED, e.message());
            };
          }
        }
        case PAUSING, RESUMING -> {
          if (!sandbox.autoResume() || Instant.now().isAfter(deadline)) {
            return ResumeResult.refused(
                ResumeResult.Outcome.TRANSITIONING,
                "The sandbox is still transitioning. Try again in a moment.");
          }
          pauseBriefly();
        }
        case STARTING, KILLED -> {
          return ResumeResult.refused(ResumeResult.Outcome.NOT_FOUND, "The sandbox was not found");
        }
      }
    }
  }

  /** The traffic token on a non-envd port of a private sandbox, the envd token on envd's port. */
  private static boolean tokensMatch(SandboxRecord sandbox, ResumeRequest request) {
    if (request.port() == ENVD_PORT) {
      return sandbox.envdAccessToken() == null
          || same(sandbox.envdAccessToken(), request.envdAccessToken());
    }
    return sandbox.trafficAccessToken() == null
        || same(sandbox.trafficAccessToken(), request.trafficAccessToken());
  }

  private static boolean same(String expected, @Nullable String given) {
    return given != null
        && MessageDigest.isEqual(
            expected.getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
  }

  // kill

  /**
   * Kills a sandbox of the caller's team that runs, is paused or is being paused or resumed (its
   * saved state is deleted too); 404 if there is none.
   */
  public void kill(Caller caller, String sandboxId) {
    Optional<SandboxRecord> found = store.sandbox(sandboxId);
    if (found.isEmpty()
        || !found.get().teamId().equals(caller.team().id())
        || found.get().state() == SandboxState.KILLED
        || found.get().state() == SandboxState.STARTING) {
      throw notFound(sandboxId);
    }
    if (!kill(found.get(), "killed")) {
      throw notFound(sandboxId);
    }
  }

  /**
   * Marks killed (once), forgets the route, deletes it on its node: running or saved (both are
   * asked, so a pause that finished meanwhile leaves nothing behind; a pause or resume still in
   * flight deletes what it made when it finds the sandbox killed).
   */
  boolean kill(SandboxRecord sandbox, String reason) {
    if (!store.markKilled(sandbox.id(), now(), reason)) {
      return false;
    }
    catalog.remove(sandbox.id());
    event(sandbox.id(), "info", "Sandbox killed", Map.of("reason", reason));
    nodes
        .node(sandbox.nodeId())
        .ifPresent(
            node -> {
              deleteOnNode(node, sandbox.id());
              deletePausedOnNode(node, sandbox.id());
            });
    return true;
  }

  static void deleteOnNode(Node node, String sandboxId) {
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

  static void deletePausedOnNode(Node node, String sandboxId) {
    try {
      node.sandboxes(CALL_DEADLINE)
          .deletePaused(DeletePausedRequest.newBuilder().setSandboxId(sandboxId).build());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
        LOG.warn(
            "deleting the saved state of {} on node {} failed: {}",
            sandboxId,
            node.id(),
            e.getStatus());
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
  public void nodeLost(Node node) {
    // a dropped node is forgotten: its sandboxes end instead of staying on record as ghosts
    for (SandboxRecord sandbox : store.sandboxes(SandboxState.RUNNING)) {
      if (sandbox.nodeId().equals(node.id())) {
        gone(sandbox, "its node " + node.id() + " was lost");
      }
    }
  }

  @Override
  public void close() {
    evictor.shutdownNow();
    autoPauses.shutdownNow();
    try {
      evictor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
