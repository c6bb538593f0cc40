package dev.sbx.api.sandbox;

import dev.sbx.api.auth.Caller;
import dev.sbx.api.http.ApiException;
import dev.sbx.api.http.Reply;
import dev.sbx.api.node.NodeRegistry;
import dev.sbx.api.store.SandboxEvent;
import dev.sbx.api.store.SandboxRecord;
import dev.sbx.api.store.SandboxState;
import dev.sbx.api.store.Store;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A sandbox's {@code /logs} (v1) and {@code /v2/.../logs}: its lifecycle events (the store's {@code
 * sandbox_events}: created, end time set, killed, …) merged by time with envd's own log (read now
 * from the running sandbox, see {@link EnvdLog}). Every entry's {@code fields} has {@code source}:
 * {@code lifecycle} or {@code envd} (envd's also {@code logger}). A killed sandbox keeps its
 * lifecycle events only; a running one whose envd cannot be read gets one {@code warn} entry saying
 * so instead of envd's lines.
 */
public final class SandboxLogs {
  /** At most this many lifecycle events are read per request. */
  private static final int MAX_EVENTS = 100_000;

  private final Store store;
  private final NodeRegistry nodes;
  private final SandboxLifecycle lifecycle;
  private final EnvdLog envd;

  public SandboxLogs(Store store, NodeRegistry nodes, SandboxLifecycle lifecycle, EnvdLog envd) {
    this.store = store;
    this.nodes = nodes;
    this.lifecycle = lifecycle;
    this.envd = envd;
  }

  /** One entry of either source. */
  record Entry(Instant timestamp, String level, String message, Map<String, String> fields) {
    JsonObject v2() {
      return new JsonObject()
          .put("timestamp", timestamp.toString())
          .put("message", message)
          .put("level", level)
          .put("fields", new JsonObject(new LinkedHashMap<>(fields)));
    }

    /** E2B's v1 line: a JSON object of the level, the message and the fields. */
    JsonObject v1() {
      JsonObject line = new JsonObject().put("level", level).put("message", message);
      fields.forEach(line::put);
      return new JsonObject().put("timestamp", timestamp.toString()).put("line", line.encode());
    }
  }

  private static final Comparator<Entry> BY_TIME = Comparator.comparing(Entry::timestamp);

  /** Both sources, oldest first. */
  private List<Entry> entries(SandboxRecord sandbox) {
    List<Entry> all = new ArrayList<>();
    for (SandboxEvent e : store.events(sandbox.id(), Instant.EPOCH, MAX_EVENTS, true)) {
      Map<String, String> fields = new LinkedHashMap<>(e.fields());
      fields.put("source", "lifecycle");
      all.add(new Entry(e.at(), e.level(), e.message(), fields));
    }
    if (sandbox.state() == SandboxState.RUNNING && nodes.healthy(sandbox.nodeId())) {
      EnvdLog.Result read = envd.read(sandbox);
      if (read.ok()) {
        for (EnvdLog.Line line : read.lines()) {
          Map<String, String> fields = new LinkedHashMap<>();
          fields.put("source", "envd");
          fields.put("logger", line.logger());
          all.add(new Entry(line.timestamp(), line.level(), line.message(), fields));
        }
      } else {
        all.add(
            new Entry(
                Instant.now(),
                "warn",
                "envd's log could not be read: " + read.failure(),
                Map.of("source", "lifecycle")));
      }
    }
    all.sort(BY_TIME);
    return all;
  }

  /** {@code GET /sandboxes/{id}/logs?start=<ms>&limit=}: oldest first from {@code start}. */
  public Reply v1(RoutingContext ctx, Caller caller) {
    String id = SandboxIds.fromPath(dev.sbx.api.http.Params.path(ctx, "sandboxID"));
    Long start = Queries.longQuery(ctx, "start");
    int limit = Queries.intQuery(ctx, "limit", 1000, 0, 100_000);
    SandboxRecord sandbox = lifecycle.any(caller, id);
    Instant from = start == null ? Instant.EPOCH : Instant.ofEpochMilli(Math.max(0, start));
    JsonArray logs = new JsonArray();
    JsonArray logEntries = new JsonArray();
    for (Entry e : entries(sandbox)) {
      if (logs.size() >= limit) {
        break;
      }
      if (e.timestamp().isBefore(from)) {
        continue;
      }
      logs.add(e.v1());
      logEntries.add(e.v2());
    }
    return Reply.json(200, new JsonObject().put("logs", logs).put("logEntries", logEntries));
  }

  /**
   * {@code GET /v2/sandboxes/{id}/logs?cursor=<ms>&limit=&direction=&level=&search=}: forward from
   * the cursor (oldest first) or backward from it (newest first; without a cursor from now).
   */
  public Reply v2(RoutingContext ctx, Caller caller) {
    String id = SandboxIds.fromPath(dev.sbx.api.http.Params.path(ctx, "sandboxID"));
    Long cursor = Queries.longQuery(ctx, "cursor");
    int limit = Queries.intQuery(ctx, "limit", 1000, 0, 1000);
    String direction = Optional.ofNullable(ctx.request().getParam("direction")).orElse("forward");
    if (!direction.equals("forward") && !direction.equals("backward")) {
      throw ApiException.validation(
          "parameter \"direction\" in query has an error: value is not one of the allowed values"
              + " [\"forward\",\"backward\"]");
    }
    String level = ctx.request().getParam("level");
    if (level != null && !List.of("debug", "info", "warn", "error").contains(level)) {
      throw ApiException.validation(
          "parameter \"level\" in query has an error: value is not one of the allowed values"
              + " [\"debug\",\"info\",\"warn\",\"error\"]");
    }
    String search = ctx.request().getParam("search");
    if (search != null && search.length() > 256) {
      throw ApiException.validation(
          "parameter \"search\" in query has an error: maximum string length is 256");
    }
    SandboxRecord sandbox = lifecycle.any(caller, id);
    boolean forward = direction.equals("forward");
    List<Entry> entries = entries(sandbox);
    if (!forward) {
      entries = entries.reversed();
    }
    JsonArray logs = new JsonArray();
    for (Entry e : entries) {
      if (logs.size() >= limit) {
        break;
      }
      if (cursor != null && !inRange(e.timestamp(), cursor, forward)) {
        continue;
      }
      if (level != null && severity(e.level()) < severity(level)) {
        continue;
      }
      if (search != null && !e.message().contains(search)) {
        continue;
      }
      logs.add(e.v2());
    }
    return Reply.json(200, new JsonObject().put("logs", logs));
  }

  private static boolean inRange(Instant at, long cursorMillis, boolean forward) {
    Instant cursor = Instant.ofEpochMilli(Math.max(0, cursorMillis));
    return forward ? !at.isBefore(cursor) : !at.isAfter(cursor);
  }

  private static int severity(@Nullable String level) {
    return switch (level == null ? "" : level) {
      case "debug" -> 0;
      case "info" -> 1;
      case "warn" -> 2;
      default -> 3;
    };
  }
}
