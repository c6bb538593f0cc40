package dev.sbx.orchestrator.lifecycle;

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
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * What the node knows of one sandbox, persisted as {@code sandbox.json} in the sandbox's directory
 * (next to its OCI bundle) so that a restarted orchestrator can adopt the sandbox: its ids (sandbox
 * and container), template, limits, metadata, start and end time, egress policy, network slot index
 * and envd access token. Written atomically (a temporary file forced to disk, then renamed over the
 * old one) at the end of every create and on every update; a sandbox dir without it is a create
 * that never finished.
 *
 * @param slotIndex the index of its network slot in the pool
 * @param accessToken envd's access token, or null for none
 */
public record SandboxRecord(
    String sandboxId,
    String containerId,
    String templateId,
    int slotIndex,
    ResourceLimits limits,
    Map<String, String> metadata,
    Instant startTime,
    @Nullable Instant endTime,
    EgressPolicy egress,
    @Nullable String accessToken) {
  /** The file name in the sandbox's directory. */
  public static final String FILE = "sandbox.json";

  private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

  public SandboxRecord {
    requireNonNull(sandboxId, "sandboxId");
    requireNonNull(containerId, "containerId");
    requireNonNull(templateId, "templateId");
    requireNonNull(limits, "limits");
    metadata = Map.copyOf(requireNonNull(metadata, "metadata"));
    requireNonNull(startTime, "startTime");
    requireNonNull(egress, "egress");
  }

  /** Writes the record of {@code sandbox} to {@code dir}/sandbox.json, replacing the old one. */
  static void write(Path dir, Sandbox sandbox, @Nullable String accessToken) {
    JsonObject json = new JsonObject();
    json.addProperty("version", 1);
    json.addProperty("sandboxId", sandbox.sandboxId());
    json.addProperty("containerId", sandbox.containerId());
    json.addProperty("templateId", sandbox.templateId());
    json.addProperty("slotIndex", sandbox.slot().index());
    json.addProperty("cpuCount", sandbox.limits().cpuCount());
    json.addProperty("memoryMB", sandbox.limits().memoryMB());
    json.addProperty("pidsLimit", sandbox.limits().pidsLimit());
    JsonObject metadata = new JsonObject();
    sandbox.metadata().forEach(metadata::addProperty);
    json.add("metadata", metadata);
    json.addProperty("startTime", sandbox.startTime().toString());
    Instant endTime = sandbox.endTime();
    if (endTime != null) {
      json.addProperty("endTime", endTime.toString());
    }
    JsonObject egress = new JsonObject();
    egress.addProperty("internetAccess", sandbox.egress().internetAccess());
    egress.add("allowed", cidrs(sandbox.egress().allowed()));
    egress.add("denied", cidrs(sandbox.egress().denied()));
    json.add("egress", egress);
    if (accessToken != null) {
      json.addProperty("accessToken", accessToken);
    }
    Path file = dir.resolve(FILE);
    Path temp = dir.resolve(FILE + ".tmp");
    try (FileChannel channel =
        FileChannel.open(
            temp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      // no fsync: the record must survive the orchestrator's death, which the page cache does;
      // after the host's, no container survives to be adopted
      channel.write(StandardCharsets.UTF_8.encode(GSON.toJson(json)));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + temp, e);
    }
    try {
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot rename " + temp + " to " + file, e);
    }
  }

  private static JsonArray cidrs(List<Ipv4Cidr> cidrs) {
    JsonArray array = new JsonArray();
    cidrs.forEach(cidr -> array.add(cidr.toString()));
    return array;
  }

  /**
   * Reads {@code dir}/sandbox.json; empty if there is none.
   *
   * @throws IllegalArgumentException if it is malformed
   */
  public static Optional<SandboxRecord> read(Path dir) {
    String text;
    try {
      text = Files.readString(dir.resolve(FILE), StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      JsonObject json = JsonParser.parseString(text).getAsJsonObject();
      Map<String, String> metadata = new LinkedHashMap<>();
      json.getAsJsonObject("metadata")
          .entrySet()
          .forEach(e -> metadata.put(e.getKey(), e.getValue().getAsString()));
      JsonObject egress = json.getAsJsonObject("egress");
      return Optional.of(
          new SandboxRecord(
              json.get("sandboxId").getAsString(),
              json.get("containerId").getAsString(),
              json.get("templateId").getAsString(),
              json.get("slotIndex").getAsInt(),
              new ResourceLimits(
                  json.get("cpuCount").getAsInt(),
                  json.get("memoryMB").getAsInt(),
                  json.get("pidsLimit").getAsInt()),
              metadata,
              Instant.parse(json.get("startTime").getAsString()),
              json.has("endTime") ? Instant.parse(json.get("endTime").getAsString()) : null,
              new EgressPolicy(
                  egress.get("internetAccess").getAsBoolean(),
                  parseCidrs(egress.getAsJsonArray("allowed")),
                  parseCidrs(egress.getAsJsonArray("denied"))),
              json.has("accessToken") ? json.get("accessToken").getAsString() : null));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("malformed " + dir.resolve(FILE) + ": " + e, e);
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
