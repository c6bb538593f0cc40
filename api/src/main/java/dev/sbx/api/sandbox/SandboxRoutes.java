package dev.sbx.api.sandbox;

import dev.sbx.api.auth.Caller;
import dev.sbx.api.http.ApiException;
import dev.sbx.api.http.JsonBody;
import dev.sbx.api.http.Reply;
import dev.sbx.api.node.NodeRegistry;
import dev.sbx.api.store.SandboxRecord;
import dev.sbx.api.store.SandboxState;
import dev.sbx.api.store.SnapshotRecord;
import dev.sbx.api.store.Store;
import dev.sbx.api.store.TemplateRecord;
import dev.sbx.api.template.Templates;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** E2B's sandbox endpoints (§1.4–1.6), request checking and response bodies. */
public final class SandboxRoutes {
  private static final Pattern IPV4_CIDR =
      Pattern.compile(
          "^((25[0-5]|2[0-4]\\d|1?\\d?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1?\\d?\\d)(/(3[0-2]|[12]?\\d))?$");
  private static final int V2_DEFAULT_TIMEOUT = 300;

  private final Store store;
  private final NodeRegistry nodes;
  private final SandboxLifecycle lifecycle;
  private final Templates templates;
  private final SandboxMetrics metrics;
  private final SandboxSnapshots snapshots;
  private final @Nullable String domain;

  public SandboxRoutes(
      Store store,
      NodeRegistry nodes,
      SandboxLifecycle lifecycle,
      Templates templates,
      SandboxMetrics metrics,
      SandboxSnapshots snapshots,
      @Nullable String domain) {
    this.store = store;
    this.nodes = nodes;
    this.lifecycle = lifecycle;
    this.templates = templates;
    this.metrics = metrics;
    this.snapshots = snapshots;
    this.domain = domain;
  }

  private static String id(RoutingContext ctx) {
    return SandboxIds.fromPath(dev.sbx.api.http.Params.path(ctx, "sandboxID"));
  }

  private static @Nullable String query(RoutingContext ctx, String name) {
    return ctx.request().getParam(name);
  }

  // create

  /** {@code POST /sandboxes} (v1) and {@code POST /v2/sandboxes} (v2: timeout 300 s, secure). */
  public Reply create(RoutingContext ctx, Caller caller, boolean v2) {
    JsonBody body = JsonBody.parse(ctx.body().buffer(), false);
    String template = body.requiredString("templateID");
    Integer timeout = body.integer("timeout");
    int maxHours = caller.team().limits().maxLengthHours();
    int seconds = timeout == null ? (v2 ? V2_DEFAULT_TIMEOUT : 15) : timeout;
    if (seconds <= 0) {
      throw ApiException.badRequest("Timeout must be greater than 0");
    }
    if ((long) seconds > maxHours * 3600L) {
      throw ApiException.badRequest("Timeout cannot be greater than " + maxHours + " hours");
    }
    Boolean secureField = body.bool("secure");
    boolean secure = secureField == null ? v2 : secureField;
    Boolean autoPause = body.bool("autoPause");
    Boolean autoPauseMemory = body.bool("autoPauseMemory");
    JsonBody autoResumeObject = body.object("autoResume");
    boolean autoResume = false;
    if (autoResumeObject != null) {
      Boolean enabled = autoResumeObject.bool("enabled");
      autoResume = enabled != null && enabled;
    }
    if (Boolean.FALSE.equals(autoPauseMemory) && !Boolean.TRUE.equals(autoPause)) {
      throw ApiException.badRequest("autoPauseMemory=false requires autoPause=true");
    }
    if (Boolean.FALSE.equals(autoPauseMemory) && autoResume) {
      throw ApiException.badRequest("autoPauseMemory=false cannot be combined with autoResume");
    }
    Boolean internet = body.bool("allow_internet_access");
    Map<String, String> metadata = body.stringMap("metadata");
    Map<String, String> envVars = body.stringMap("envVars");
    if (body.has("volumeMounts")
        && !(body.json().getValue("volumeMounts") instanceof JsonArray mounts
            && mounts.isEmpty())) {
      throw ApiException.badRequest("volumeMounts are not supported by sbx");
    }
    JsonBody network = body.object("network");
    boolean allowPublicTraffic = true;
    List<String> allowOut = List.of();
    List<String> denyOut = List.of();
    String networkJson = null;
    if (network != null) {
      Boolean publicTraffic = network.bool("allowPublicTraffic");
      allowPublicTraffic = publicTraffic == null || publicTraffic;
      allowOut = cidrs(network.stringList("allowOut"), "allowOut");
      denyOut = cidrs(network.stringList("denyOut"), "denyOut");
      if (network.has("egressProxy") || network.has("rules")) {
        throw ApiException.badRequest(
            "network.egressProxy and network.rules are not supported by sbx");
      }
      if (network.has("maskRequestHost")) {
        // kept in the stored network object; the catalog entry carries it to the client proxy
        MaskRequestHost.check(network.json().getValue("maskRequestHost"));
      }
      JsonObject kept = network.json().copy();
      networkJson = kept.encode();
    }
    if (!allowPublicTraffic && !secure) {
      throw ApiException.badRequest(
          "You cannot create a sandbox without public access unless you enable secure envd"
              + " access via 'secure' flag.");
    }
    Optional<SnapshotRecord> snapshot = snapshots.resolve(caller, template);
    Templates.Resolved resolved =
        snapshot.isPresent()
            ? new Templates.Resolved(fromSnapshot(snapshot.get()), null)
            : templates.resolve(caller, template);
    TemplateRecord record = resolved.template();
    if (secure && compareVersions(record.envdVersion(), "0.2.0") < 0) {
      throw ApiException.badRequest(
          "Template is not compatible with secured access, please rebuild the template");
    }
    NewSandbox request =
        new NewSandbox(
            template,
            seconds,
            secure,
            internet == null || internet,
            allowPublicTraffic,
            allowOut,
            denyOut,
            networkJson,
            Boolean.TRUE.equals(autoPause),
            autoPauseMemory == null || autoPauseMemory,
            autoResume,
            metadata,
            envVars);
    SandboxRecord sandbox =
        lifecycle.create(caller, request, record, resolved.alias(), snapshot.orElse(null));
    return Reply.json(201, started(sandbox));
  }

  /** What a sandbox made from a snapshot has: its template, resources and envd version. */
  private static TemplateRecord fromSnapshot(SnapshotRecord s) {
    return new TemplateRecord(
        s.templateId(),
        s.teamId(),
        false,
        List.of(),
        s.cpuCount(),
        s.memoryMb(),
        s.diskSizeMb(),
        s.envdVersion(),
        s.createdAt(),
        s.createdAt(),
        null,
        0);
  }

  private static List<String> cidrs(List<String> values, String field) {
    List<String> cidrs = new ArrayList<>();
    for (String value : values) {
      String v = value.trim();
      if (!IPV4_CIDR.matcher(v).matches()) {
        throw ApiException.badRequest(
            "network."
                + field
                + ": '"
                + value
                + "' is not an IPv4 address or CIDR (domains and IPv6 are not supported by sbx)");
      }
      cidrs.add(v.contains("/") ? v : v + "/32");
    }
    return cidrs;
  }

  static int compareVersions(String a, String b) {
    String[] x = a.split("[.-]");
    String[] y = b.split("[.-]");
    for (int i = 0; i < 3; i++) {
      int xi = i < x.length ? parseOrZero(x[i]) : 0;
      int yi = i < y.length ? parseOrZero(y[i]) : 0;
      if (xi != yi) {
        return Integer.compare(xi, yi);
      }
    }
    return 0;
  }

  private static int parseOrZero(String s) {
    try {
      return Integer.parseInt(s);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** The {@code Sandbox} body of create and connect. */
  private JsonObject started(SandboxRecord s) {
    JsonObject json =
        new JsonObject()
            .put("sandboxID", s.id())
            .put("templateID", s.templateId())
            .put("clientID", SandboxLifecycle.CLIENT_ID)
            .put("envdVersion", s.envdVersion())
            .put("trafficAccessToken", s.trafficAccessToken())
            .put("domain", domain);
    if (s.alias() != null) {
      json.put("alias", s.alias());
    }
    if (s.envdAccessToken() != null) {
      json.put("envdAccessToken", s.envdAccessToken());
    }
    return json;
  }

  /**
   * A {@code ListedSandbox}. A paused sandbox has {@code state: "paused"} and {@code endAt} = the
   * time it was paused, plus sbx's {@code sbxMemoryKept} (whether its processes were kept).
   */
  private static JsonObject listed(SandboxRecord s) {
    boolean paused = s.shownPaused();
    Instant pausedAt = s.pausedAt();
    Instant endAt =
        paused
            ? (pausedAt == null || s.state() == SandboxState.PAUSING ? s.endAt() : pausedAt)
            : s.endAt();
    JsonObject json =
        new JsonObject()
            .put("templateID", s.templateId())
            .put("sandboxID", s.id())
            .put("clientID", SandboxLifecycle.CLIENT_ID)
            .put("startedAt", s.startedAt().toString())
            .put("endAt", endAt.toString())
            .put("cpuCount", s.cpuCount())
            .put("memoryMB", s.memoryMb())
            .put("diskSizeMB", s.diskSizeMb())
            .put("envdVersion", s.envdVersion())
            .put("state", paused ? "paused" : "running")
            .put("metadata", new JsonObject(new LinkedHashMap<>(s.metadata())));
    if (s.alias() != null) {
      json.put("alias", s.alias());
    }
    if (paused && s.memoryKept() != null) {
      json.put("sbxMemoryKept", s.memoryKept());
    }
    return json;
  }

  // connect

  /** {@code POST /sandboxes/{id}/connect} (timeout required) and the v2 route (optional). */
  public Reply connect(RoutingContext ctx, Caller caller, boolean v2) {
    String id = id(ctx);
    JsonBody body = JsonBody.parse(ctx.body().buffer(), v2);
    Integer timeout = body.integer("timeout");
    if (timeout == null) {
      if (!v2) {
        body.requiredString("timeout");
      }
      timeout = V2_DEFAULT_TIMEOUT;
    }
    if (timeout < 0) {
      throw ApiException.validation(
          "request body has an error: doesn't match schema: Error at \"/timeout\": number must be"
              + " at least 0");
    }
    int maxHours = caller.team().limits().maxLengthHours();
    if ((long) timeout > maxHours * 3600L) {
      throw ApiException.badRequest("Timeout cannot be greater than " + maxHours + " hours");
    }
    if (body.has("memory") && Boolean.FALSE.equals(body.bool("memory"))) {
      // onResume "reboot" (2.51): E2B documents it as not implemented server-side either
      throw ApiException.badRequest("Resuming with memory=false (a reboot) is not supported");
    }
    SandboxLifecycle.Started result = lifecycle.resume(caller, id, timeout, true);
    return Reply.json(result.created() ? 201 : 200, started(result.sandbox()));
  }

  // get, kill, timeout, refresh

  public Reply get(RoutingContext ctx, Caller caller) {
    SandboxRecord s = lifecycle.visible(caller, id(ctx));
    JsonObject json = listed(s).put("domain", domain);
    if (s.envdAccessToken() != null) {
      json.put("envdAccessToken", s.envdAccessToken());
    }
    json.put("allowInternetAccess", s.allowInternetAccess());
    if (s.networkJson() != null) {
      json.put("network", new JsonObject(s.networkJson()));
    }
    json.put(
        "lifecycle",
        new JsonObject()
            .put("autoResume", s.autoResume())
            .put("onTimeout", s.autoPause() ? "pause" : "kill"));
    return Reply.json(200, json);
  }

  public Reply kill(RoutingContext ctx, Caller caller) {
    lifecycle.kill(caller, id(ctx));
    return Reply.noContent();
  }

  public Reply timeout(RoutingContext ctx, Caller caller) {
    String id = id(ctx);
    JsonBody body = JsonBody.parse(ctx.body().buffer(), false);
    Integer timeout = body.integer("timeout");
    if (timeout == null) {
      body.requiredString("timeout");
      throw new IllegalStateException("unreachable");
    }
    lifecycle.changeEnd(caller, id, Math.max(0, timeout), false);
    return Reply.noContent();
  }

  public Reply refresh(RoutingContext ctx, Caller caller) {
    String id = id(ctx);
    JsonBody body = JsonBody.parse(ctx.body().buffer(), true);
    Integer duration = body.integer("duration");
    int seconds = duration == null ? 15 : duration;
    if (seconds < 0 || seconds > 3600) {
      throw ApiException.validation(
          "request body has an error: doesn't match schema: Error at \"/duration\": number must be"
              + " between 0 and 3600");
    }
    lifecycle.changeEnd(caller, id, Math.max(15, seconds), true);
    return Reply.noContent();
  }

  // pause and resume (§1.4, §5.4)

  /**
   * {@code POST /sandboxes/{id}/pause}: 204, with sbx's header {@code X-Sbx-Memory-Kept} saying
   * whether memory and processes were kept (a runtime that cannot checkpoint keeps the files only).
   */
  public Reply pause(RoutingContext ctx, Caller caller) {
    String id = id(ctx);
    Boolean memory = JsonBody.parse(ctx.body().buffer(), true).bool("memory");
    SandboxRecord paused = lifecycle.pause(caller, id, memory == null || memory);
    return Reply.noContent()
        .header("X-Sbx-Memory-Kept", String.valueOf(Boolean.TRUE.equals(paused.memoryKept())));
  }

  /** {@code POST /sandboxes/{id}/resume} (deprecated): 201, 409 when running, timeout 15 s. */
  public Reply resume(RoutingContext ctx, Caller caller) {
    String id = id(ctx);
    JsonBody body = JsonBody.parse(ctx.body().buffer(), true);
    Integer timeout = body.integer("timeout");
    body.bool("autoPause");
    int seconds = timeout == null ? 15 : timeout;
    if (seconds < 0) {
      throw ApiException.validation(
          "request body has an error: doesn't match schema: Error at \"/timeout\": number must be"
              + " at least 0");
    }
    int maxHours = caller.team().limits().maxLengthHours();
    if ((long) seconds > maxHours * 3600L) {
      throw ApiException.badRequest("Timeout cannot be greater than " + maxHours + " hours");
    }
    SandboxLifecycle.Started result = lifecycle.resume(caller, id, seconds, false);
    return Reply.json(201, started(result.sandbox()));
  }

  // snapshots and fork

  /** {@code POST /sandboxes/{id}/snapshots}: 201 {@code SnapshotInfo}. */
  public Reply createSnapshot(RoutingContext ctx, Caller caller) {
    String id = id(ctx);
    String name = JsonBody.parse(ctx.body().buffer(), true).string("name");
    SnapshotRecord snapshot = snapshots.create(caller, id, name);
    return Reply.json(201, snapshotInfo(snapshot, caller));
  }

  private static JsonObject snapshotInfo(SnapshotRecord s, Caller caller) {
    return new JsonObject()
        .put("snapshotID", SandboxSnapshots.snapshotId(s, caller.team()))
        .put("names", new JsonArray(new ArrayList<>(SandboxSnapshots.names(s, caller.team()))))
        .put("sbxSandboxID", s.sandboxId())
        .put("sbxMemoryKept", s.memoryKept())
        .put("sbxCreatedAt", s.createdAt().toString());
  }

  /** {@code GET /snapshots}: newest first, {@code limit} 1..100, {@code X-Next-Token}. */
  public Reply listSnapshots(RoutingContext ctx, Caller caller) {
    String sandboxId = query(ctx, "sandboxID");
    String name = query(ctx, "name");
    int limit = Queries.intQuery(ctx, "limit", 100, 1, 100);
    String token = query(ctx, "nextToken");
    Cursor cursor = null;
    if (token != null && !token.isEmpty()) {
      cursor = Cursor.decode(token);
      if (cursor.asc()) {
        throw ApiException.badRequest("Invalid next token");
      }
    }
    List<SnapshotRecord> page = new ArrayList<>();
    for (SnapshotRecord s : snapshots.list(caller, sandboxId, name)) {
      if (cursor != null) {
        int byTime = s.createdAt().compareTo(cursor.startedAt());
        if (!(byTime < 0 || (byTime == 0 && s.id().compareTo(cursor.sandboxId()) > 0))) {
          continue;
        }
      }
      page.add(s);
      if (page.size() > limit) {
        break;
      }
    }
    JsonArray list = new JsonArray();
    for (SnapshotRecord s : page.subList(0, Math.min(limit, page.size()))) {
      list.add(snapshotInfo(s, caller));
    }
    Reply reply = Reply.json(200, list);
    if (page.size() > limit) {
      SnapshotRecord last = page.get(limit - 1);
      reply.header("X-Next-Token", new Cursor(last.createdAt(), last.id(), false).encode());
    }
    return reply;
  }

  /** {@code DELETE /templates/{id}}: the SDK's {@code deleteSnapshot}; templates cannot be. */
  public Reply deleteTemplate(RoutingContext ctx, Caller caller) {
    String name = dev.sbx.api.http.Params.path(ctx, "templateID");
    if (snapshots.delete(caller, name)) {
      return Reply.noContent();
    }
    String reference = name.trim().toLowerCase(Locale.ROOT);
    Optional<TemplateRecord> template =
        store.template(reference).or(() -> store.templateByAlias(reference));
    if (template.isPresent() && template.get().usableBy(caller.team().id())) {
      throw ApiException.badRequest("Deleting templates is not supported by sbx (only snapshots)");
    }
    throw ApiException.notFound("template '" + reference + "' not found");
  }

  /** {@code POST /sandboxes/{id}/fork}: 201, one {@code {sandbox}} or {@code {error}} per child. */
  public Reply fork(RoutingContext ctx, Caller caller) {
    String id = id(ctx);
    JsonBody body = JsonBody.parse(ctx.body().buffer(), true);
    Integer timeout = body.integer("timeout");
    Integer count = body.integer("count");
    int seconds = timeout == null ? 15 : timeout;
    int children = count == null ? 1 : count;
    if (children < 1 || children > 100) {
      throw ApiException.validation(
          "request body has an error: doesn't match schema: Error at \"/count\": number must be"
              + " between 1 and 100");
    }
    int maxHours = caller.team().limits().maxLengthHours();
    if (seconds <= 0) {
      throw ApiException.badRequest("Timeout must be greater than 0");
    }
    if ((long) seconds > maxHours * 3600L) {
      throw ApiException.badRequest("Timeout cannot be greater than " + maxHours + " hours");
    }
    JsonArray results = new JsonArray();
    for (SandboxSnapshots.Forked forked : snapshots.fork(caller, id, seconds, children)) {
      SandboxRecord child = forked.sandbox();
      if (child != null) {
        results.add(new JsonObject().put("sandbox", started(child)));
      } else {
        results.add(
            new JsonObject()
                .put(
                    "error",
                    new JsonObject()
                        .put("code", forked.errorCode())
                        .put("message", forked.errorMessage())));
      }
    }
    return Reply.json(201, results);
  }

  // metrics

  public Reply metrics(RoutingContext ctx, Caller caller) {
    String id = id(ctx);
    Long start = Queries.longQuery(ctx, "start");
    Long end = Queries.longQuery(ctx, "end");
    SandboxRecord sandbox = lifecycle.running(caller, id);
    JsonObject sample = metrics.read(sandbox);
    long ts = sample.getLong("timestampUnix");
    JsonArray result = new JsonArray();
    if ((start == null || ts >= start) && (end == null || ts <= end)) {
      result.add(sample);
    }
    return Reply.json(200, result);
  }

  // lists

  /** Running sandboxes of the team on healthy nodes, newest first. */
  private List<SandboxRecord> live(Caller caller) {
    return store.sandboxes(caller.team().id(), SandboxState.RUNNING).stream()
        .filter(s -> nodes.healthy(s.nodeId()))
        .toList();
  }

  /** Paused (also pausing and resuming) sandboxes of the team, newest first. */
  private List<SandboxRecord> paused(Caller caller) {
    return store.sandboxes(caller.team().id(), SandboxState.SHOWN_PAUSED);
  }

  /** The {@code state} query: {running, paused}; null when absent. */
  private static boolean[] states(RoutingContext ctx, boolean running, boolean paused) {
    String state = query(ctx, "state");
    if (state == null) {
      return new boolean[] {running, paused};
    }
    boolean[] wanted = {false, false};
    for (String value : state.split(",", -1)) {
      switch (value) {
        case "running" -> wanted[0] = true;
        case "paused" -> wanted[1] = true;
        default ->
            throw ApiException.validation(
                "parameter \"state\" in query has an error: value is not one of the allowed"
                    + " values [\"running\",\"paused\"]");
      }
    }
    return wanted;
  }

  /**
   * {@code GET /sandboxes}: running only by default, as E2B's v1 list; sbx also takes v2's {@code
   * state} filter here ({@code state=running,paused}); newest first, no paging.
   */
  public Reply listV1(RoutingContext ctx, Caller caller) {
    Map<String, String> metadata = metadataFilter(query(ctx, "metadata"));
    boolean[] wanted = states(ctx, true, false);
    List<SandboxRecord> all = new ArrayList<>();
    if (wanted[0]) {
      all.addAll(live(caller));
    }
    if (wanted[1]) {
      all.addAll(paused(caller));
    }
    all.sort(
        Comparator.comparing(SandboxRecord::startedAt).reversed().thenComparing(SandboxRecord::id));
    JsonArray list = new JsonArray();
    for (SandboxRecord s : all) {
      if (matches(s, metadata)) {
        list.add(listed(s));
      }
    }
    return Reply.json(200, list);
  }

  /** {@code GET /v2/sandboxes} (§1.6). */
  public Reply listV2(RoutingContext ctx, Caller caller) {
    Map<String, String> metadata = metadataFilter(query(ctx, "metadata"));
    boolean[] wanted = states(ctx, true, true);
    boolean running = wanted[0];
    boolean paused = wanted[1];
    String order = Optional.ofNullable(query(ctx, "order")).orElse("desc");
    if (!order.equals("asc") && !order.equals("desc")) {
      throw ApiException.validation(
          "parameter \"order\" in query has an error: value is not one of the allowed values"
              + " [\"asc\",\"desc\"]");
    }
    boolean asc = order.equals("asc");
    Instant startedAfter = null;
    String after = query(ctx, "startedAfter");
    if (after != null) {
      try {
        startedAfter = Instant.parse(after).truncatedTo(ChronoUnit.MICROS);
      } catch (DateTimeParseException e) {
        throw ApiException.validation(
            "parameter \"startedAfter\" in query has an error: string doesn't match the format"
                + " \"date-time\"");
      }
    }
    int limit = Queries.intQuery(ctx, "limit", 100, 1, 100);
    String templateFilter = query(ctx, "template");
    String templateId = null;
    boolean unknownTemplate = false;
    if (templateFilter != null) {
      String t = templateFilter.trim().toLowerCase(Locale.ROOT);
      if (t.contains(":")) {
        throw ApiException.badRequest("Template filter must not contain a tag");
      }
      Optional<TemplateRecord> record = store.template(t).or(() -> store.templateByAlias(t));
      if (record.isPresent() && record.get().usableBy(caller.team().id())) {
        templateId = record.get().id();
      } else {
        unknownTemplate = true;
      }
    }
    Cursor cursor = null;
    String token = query(ctx, "nextToken");
    if (token != null && !token.isEmpty()) {
      cursor = Cursor.decode(token);
      if (cursor.asc() != asc) {
        throw ApiException.badRequest("Invalid next token");
      }
    }

    List<SandboxRecord> matching = new ArrayList<>();
    int totalRunning = 0;
    List<SandboxRecord> candidates = new ArrayList<>();
    if (running && !unknownTemplate) {
      candidates.addAll(live(caller));
    }
    if (paused && !unknownTemplate) {
      candidates.addAll(paused(caller));
    }
    for (SandboxRecord s : candidates) {
      if (matches(s, metadata)
          && (templateId == null || s.templateId().equals(templateId))
          && (startedAfter == null || !s.startedAt().isBefore(startedAfter))) {
        matching.add(s);
        if (!s.shownPaused()) {
          totalRunning++;
        }
      }
    }
    Comparator<SandboxRecord> sort =
        Comparator.comparing(SandboxRecord::startedAt).reversed().thenComparing(SandboxRecord::id);
    if (asc) {
      sort = sort.reversed();
    }
    matching.sort(sort);
    List<SandboxRecord> page = new ArrayList<>();
    for (SandboxRecord s : matching) {
      if (cursor != null && !cursor.before(s, asc)) {
        continue;
      }
      page.add(s);
      if (page.size() > limit) {
        break;
      }
    }
    Reply reply;
    JsonArray list = new JsonArray();
    for (SandboxRecord s : page.subList(0, Math.min(limit, page.size()))) {
      list.add(listed(s));
    }
    reply = Reply.json(200, list);
    if (page.size() > limit) {
      reply.header("X-Next-Token", new Cursor(page.get(limit - 1), asc).encode());
    }
    if (running) {
      reply.header("X-Total-Running", String.valueOf(totalRunning));
    }
    return reply;
  }

  /** {@code <RFC 3339 ts>__<sandboxID>[__asc]}, base64url with padding. */
  record Cursor(Instant startedAt, String sandboxId, boolean asc) {
    Cursor(SandboxRecord s, boolean asc) {
      this(s.startedAt(), s.id(), asc);
    }

    String encode() {
      String raw = startedAt + "__" + sandboxId + (asc ? "__asc" : "");
      return Base64.getUrlEncoder().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
    }

    static Cursor decode(String token) {
      try {
        String raw = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
        String[] parts = raw.split("__", -1);
        if (parts.length < 2
            || parts.length > 3
            || (parts.length == 3 && !parts[2].equals("asc"))) {
          throw ApiException.badRequest("Invalid next token");
        }
        if (!parts[1].matches("[a-z0-9]+")) {
          throw ApiException.badRequest("Invalid next token");
        }
        return new Cursor(Instant.parse(parts[0]), parts[1], parts.length == 3);
      } catch (IllegalArgumentException | DateTimeParseException e) {
        throw ApiException.badRequest("Invalid next token");
      }
    }

    /** Whether {@code s} comes after this cursor in the order. */
    boolean before(SandboxRecord s, boolean ascending) {
      int byTime = s.startedAt().compareTo(startedAt);
      int byId = s.id().compareTo(sandboxId);
      if (!ascending) {
        return byTime < 0 || (byTime == 0 && byId > 0);
      }
      return byTime > 0 || (byTime == 0 && byId < 0);
    }
  }

  private static boolean matches(SandboxRecord s, Map<String, String> filter) {
    for (Map.Entry<String, String> e : filter.entrySet()) {
      if (!e.getValue().equals(s.metadata().get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }

  /**
   * {@code k1=v1&k2=v2}, each key and value URL-encoded (the query decoding removed the outer
   * encoding); every pair must have exactly one {@code =}.
   */
  static Map<String, String> metadataFilter(@Nullable String metadata) {
    Map<String, String> filter = new LinkedHashMap<>();
    if (metadata == null || metadata.isEmpty()) {
      return filter;
    }
    for (String pair : metadata.split("&", -1)) {
      String[] kv = pair.split("=", -1);
      if (kv.length != 2) {
        throw ApiException.badRequest("Invalid metadata filter: '" + pair + "' is not key=value");
      }
      try {
        filter.put(
            URLDecoder.decode(kv[0], StandardCharsets.UTF_8),
            URLDecoder.decode(kv[1], StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        throw ApiException.badRequest("Invalid metadata filter: '" + pair + "' is badly escaped");
      }
    }
    return filter;
  }
}
