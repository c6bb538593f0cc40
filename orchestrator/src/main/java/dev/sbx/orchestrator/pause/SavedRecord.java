package dev.sbx.orchestrator.pause;

import static java.util.Objects.requireNonNull;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.sbx.orchestrator.network.EgressPolicy;
import dev.sbx.orchestrator.network.Ipv4Cidr;
import dev.sbx.orchestrator.runtime.ResourceLimits;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import org.jspecify.annotations.Nullable;

/**
 * What is saved of a paused sandbox or a snapshot, besides its files ({@code record.json}).
 *
 * @param kind paused sandbox or snapshot
 * @param id the sandbox id (paused) or the snapshot id
 * @param sandboxId the sandbox it was taken from
 * @param memoryKept whether a checkpoint of memory and processes is kept ({@code image/})
 * @param sizeBytes bytes on disk ({@code image/} and {@code upper/})
 * @param accessToken envd's access token then, or null
 * @param envVars, defaultUser, defaultWorkdir what envd's {@code /init} got (empty/null when the
 *     sandbox had been adopted after a restart: then unknown)
 */
public record SavedRecord(
    Kind kind,
    String id,
    String sandboxId,
    String templateId,
    ResourceLimits limits,
    Map<String, String> metadata,
    Instant startTime,
    Instant savedAt,
    boolean memoryKept,
    long sizeBytes,
    EgressPolicy egress,
    @Nullable String accessToken,
    SequencedMap<String, String> envVars,
    @Nullable String defaultUser,
    @Nullable String defaultWorkdir) {

  /** What was saved. */
  public enum Kind {
    PAUSED,
    SNAPSHOT
  }

  private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

  public SavedRecord {
    requireNonNull(kind, "kind");
    requireNonNull(id, "id");
    requireNonNull(sandboxId, "sandboxId");
    requireNonNull(templateId, "templateId");
    requireNonNull(limits, "limits");
    metadata = Map.copyOf(requireNonNull(metadata, "metadata"));
    requireNonNull(startTime, "startTime");
    requireNonNull(savedAt, "savedAt");
    requireNonNull(egress, "egress");
    envVars = Collections.unmodifiableSequencedMap(new LinkedHashMap<>(envVars));
  }

  SavedRecord withSize(long size) {
    return new SavedRecord(
        kind,
        id,
        sandboxId,
        templateId,
        limits,
        metadata,
        startTime,
        savedAt,
        memoryKept,
        size,
        egress,
        accessToken,
        envVars,
        defaultUser,
        defaultWorkdir);
  }

  String toJson() {
    JsonObject json = new JsonObject();
    json.addProperty("version", 1);
    json.addProperty("kind", kind.name());
    json.addProperty("id", id);
    json.addProperty("sandboxId", sandboxId);
    json.addProperty("templateId", templateId);
    json.addProperty("cpuCount", limits.cpuCount());
    json.addProperty("memoryMB", limits.memoryMB());
    json.addProperty("pidsLimit", limits.pidsLimit());
    json.add("metadata", map(metadata));
    json.addProperty("startTime", startTime.toString());
    json.addProperty("savedAt", savedAt.toString());
    json.addProperty("memoryKept", memoryKept);
    json.addProperty("sizeBytes", sizeBytes);
    JsonObject egressJson = new JsonObject();
    egressJson.addProperty("internetAccess", egress.internetAccess());
    egressJson.add("allowed", cidrs(egress.allowed()));
    egressJson.add("denied", cidrs(egress.denied()));
    json.add("egress", egressJson);
    if (accessToken != null) {
      json.addProperty("accessToken", accessToken);
    }
    json.add("envVars", map(envVars));
    if (defaultUser != null) {
      json.addProperty("defaultUser", defaultUser);
    }
    if (defaultWorkdir != null) {
      json.addProperty("defaultWorkdir", defaultWorkdir);
    }
    return GSON.toJson(json);
  }

  private static JsonObject map(Map<String, String> map) {
    JsonObject json = new JsonObject();
    map.forEach(json::addProperty);
    return json;
  }

  private static JsonArray cidrs(List<Ipv4Cidr> cidrs) {
    JsonArray array = new JsonArray();
    cidrs.forEach(cidr -> array.add(cidr.toString()));
    return array;
  }

  /**
   * @throws IllegalArgumentException if malformed
   */
  static SavedRecord fromJson(String text) {
    try {
      JsonObject json = JsonParser.parseString(text).getAsJsonObject();
      JsonObject egress = json.getAsJsonObject("egress");
      SequencedMap<String, String> env = new LinkedHashMap<>();
      json.getAsJsonObject("envVars")
          .entrySet()
          .forEach(e -> env.put(e.getKey(), e.getValue().getAsString()));
      Map<String, String> metadata = new LinkedHashMap<>();
      json.getAsJsonObject("metadata")
          .entrySet()
          .forEach(e -> metadata.put(e.getKey(), e.getValue().getAsString()));
      return new SavedRecord(
          Kind.valueOf(json.get("kind").getAsString()),
          json.get("id").getAsString(),
          json.get("sandboxId").getAsString(),
          json.get("templateId").getAsString(),
          new ResourceLimits(
              json.get("cpuCount").getAsInt(),
              json.get("memoryMB").getAsInt(),
              json.get("pidsLimit").getAsInt()),
          metadata,
          Instant.parse(json.get("startTime").getAsString()),
          Instant.parse(json.get("savedAt").getAsString()),
          json.get("memoryKept").getAsBoolean(),
          json.get("sizeBytes").getAsLong(),
          new EgressPolicy(
              egress.get("internetAccess").getAsBoolean(),
              parseCidrs(egress.getAsJsonArray("allowed")),
              parseCidrs(egress.getAsJsonArray("denied"))),
          json.has("accessToken") ? json.get("accessToken").getAsString() : null,
          env,
          json.has("defaultUser") ? json.get("defaultUser").getAsString() : null,
          json.has("defaultWorkdir") ? json.get("defaultWorkdir").getAsString() : null);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("malformed saved-state record: " + e, e);
    }
  }

  private static List<Ipv4Cidr> parseCidrs(JsonArray array) {
    List<Ipv4Cidr> cidrs = new ArrayList<>();
    for (JsonElement element : array) {
      cidrs.add(Ipv4Cidr.parse(element.getAsString()));
    }
    return cidrs;
  }
}
