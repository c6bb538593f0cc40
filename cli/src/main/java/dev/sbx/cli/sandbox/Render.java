package dev.sbx.cli.sandbox;

import dev.sbx.cli.output.Table;
import dev.sbx.sdk.Sandbox;
import dev.sbx.sdk.SandboxInfo;
import dev.sbx.sdk.SandboxLogEntry;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * How {@code sbx sandbox} shows sandboxes and logs: tables and lines for people, JSON (with the
 * API's field names) for scripts.
 */
final class Render {
  private Render() {}

  /** {@code GET /sandboxes/{id}}'s fields. */
  static JsonObject json(SandboxInfo info) {
    JsonObject metadata = new JsonObject();
    new TreeMap<>(info.metadata()).forEach(metadata::put);
    return new JsonObject()
        .put("sandboxID", info.sandboxId())
        .put("templateID", info.templateId())
        .put("alias", info.name())
        .put("state", info.state().wireName())
        .put("cpuCount", info.cpuCount())
        .put("memoryMB", info.memoryMb())
        .put("diskSizeMB", info.diskSizeMb())
        .put("envdVersion", info.envdVersion())
        .put("startedAt", info.startedAt().toString())
        .put("endAt", info.endAt().toString())
        .put("metadata", metadata);
  }

  static String json(List<SandboxInfo> sandboxes) {
    JsonArray array = new JsonArray();
    sandboxes.forEach(s -> array.add(json(s)));
    return array.encode();
  }

  static void table(List<SandboxInfo> sandboxes, PrintWriter out) {
    Table table =
        new Table(
            "SANDBOX ID", "TEMPLATE", "STATE", "CPUS", "MEMORY MB", "STARTED", "ENDS", "METADATA");
    for (SandboxInfo s : sandboxes) {
      table.row(
          s.sandboxId(),
          s.name() != null ? s.name() : s.templateId(),
          s.state().wireName(),
          String.valueOf(s.cpuCount()),
          String.valueOf(s.memoryMb()),
          time(s.startedAt()),
          time(s.endAt()),
          metadata(s.metadata()));
    }
    table.print(out);
  }

  /** One sandbox for people: a field per line. */
  static void details(SandboxInfo s, Instant now, PrintWriter out) {
    Table table = new Table("FIELD", "VALUE");
    table.row("sandbox id", s.sandboxId());
    table.row("template", s.templateId() + (s.name() != null ? " (" + s.name() + ")" : ""));
    table.row("state", s.state().wireName());
    table.row("cpus", String.valueOf(s.cpuCount()));
    table.row("memory", s.memoryMb() + " MiB");
    table.row("disk", s.diskSizeMb() + " MiB");
    table.row("envd", s.envdVersion());
    table.row("started", time(s.startedAt()));
    table.row("ends", time(s.endAt()) + " (" + until(now, s.endAt()) + ")");
    table.row("metadata", metadata(s.metadata()));
    // no header row for a record
    java.io.StringWriter text = new java.io.StringWriter();
    table.print(new PrintWriter(text));
    text.toString().lines().skip(1).forEach(out::println);
  }

  /** What {@code create --json} prints. */
  static JsonObject created(Sandbox sandbox, String template) {
    JsonObject json =
        new JsonObject()
            .put("sandboxID", sandbox.sandboxId())
            .put("templateID", template)
            .put("envdVersion", sandbox.envdVersion())
            .put("domain", sandbox.sandboxDomain());
    if (sandbox.envdAccessToken() != null) {
      json.put("envdAccessToken", sandbox.envdAccessToken());
    }
    if (sandbox.trafficAccessToken() != null) {
      json.put("trafficAccessToken", sandbox.trafficAccessToken());
    }
    return json;
  }

  /** A log entry for people: time, level, message, fields. */
  static String line(SandboxLogEntry e) {
    StringBuilder line =
        new StringBuilder()
            .append(e.timestamp().truncatedTo(ChronoUnit.MILLIS))
            .append("  ")
            .append(String.format(Locale.ROOT, "%-5s", e.level().toUpperCase(Locale.ROOT)))
            .append("  ")
            .append(e.message());
    new TreeMap<>(e.fields()).forEach((k, v) -> line.append("  ").append(k).append('=').append(v));
    return line.toString();
  }

  /** A log entry as the API's {@code SandboxLogEntry} JSON (one object per line). */
  static String json(SandboxLogEntry e) {
    JsonObject fields = new JsonObject();
    e.fields().forEach(fields::put);
    return new JsonObject()
        .put("timestamp", e.timestamp().toString())
        .put("level", e.level())
        .put("message", e.message())
        .put("fields", fields)
        .encode();
  }

  static String metadata(Map<String, String> metadata) {
    if (metadata.isEmpty()) {
      return "-";
    }
    StringJoiner joined = new StringJoiner(",");
    new TreeMap<>(metadata).forEach((k, v) -> joined.add(k + "=" + v));
    return joined.toString();
  }

  static String time(Instant instant) {
    return instant.truncatedTo(ChronoUnit.SECONDS).toString();
  }

  /** "in 4m 59s" or "2m 3s ago". */
  static String until(Instant now, Instant then) {
    Duration left = Duration.between(now, then);
    String amount = human(left.abs());
    return left.isNegative() ? amount + " ago" : "in " + amount;
  }

  static String human(Duration d) {
    long seconds = d.toSeconds();
    if (seconds < 60) {
      return seconds + "s";
    }
    if (seconds < 3600) {
      return seconds / 60 + "m " + seconds % 60 + "s";
    }
    return seconds / 3600 + "h " + seconds % 3600 / 60 + "m";
  }

  static @Nullable String nullIfBlank(@Nullable String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
