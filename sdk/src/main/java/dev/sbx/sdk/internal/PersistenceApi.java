package dev.sbx.sdk.internal;

import static java.util.Objects.requireNonNull;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.sbx.sdk.AuthenticationException;
import dev.sbx.sdk.ConnectionConfig;
import dev.sbx.sdk.NotFoundException;
import dev.sbx.sdk.RateLimitException;
import dev.sbx.sdk.SandboxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import org.jspecify.annotations.Nullable;

/**
 * Pause, snapshots and fork over the REST API, as E2B's JS SDK 2.51 calls them: {@code POST
 * /sandboxes/{id}/pause}, {@code POST /sandboxes/{id}/snapshots}, {@code GET /snapshots}, {@code
 * DELETE /templates/{snapshotID}}, {@code POST /sandboxes/{id}/fork}.
 */
public final class PersistenceApi {
  private final ApiClient api;

  public PersistenceApi(ConnectionConfig config) {
    this.api = new ApiClient(requireNonNull(config, "config"));
  }

  /** A snapshot: its ID (usable as a template) and its names. */
  public record Snapshot(String snapshotId, List<String> names) {}

  /** One page of snapshots. */
  public record SnapshotPage(List<Snapshot> snapshots, @Nullable String nextToken) {}

  /** One fork child: the sandbox, or the error it failed with. */
  public record ForkChild(
      ApiClient.@Nullable SandboxHandle sandbox, @Nullable SandboxException error) {}

  /**
   * {@code POST /sandboxes/{id}/pause} {@code {"memory": keepMemory}}: true when paused, false when
   * it was paused already (409).
   */
  public boolean pause(String sandboxId, boolean keepMemory) {
    JsonObject body = new JsonObject();
    body.addProperty("memory", keepMemory);
    ApiClient.Response response =
        api.send("POST", "/sandboxes/" + ApiClient.pathSegment(sandboxId) + "/pause", body);
    if (response.status() == 409) {
      return false;
    }
    if (response.status() / 100 != 2) {
      throw ApiClient.error(response, "Sandbox " + sandboxId + " not found");
    }
    return true;
  }

  /** {@code POST /sandboxes/{id}/snapshots} with {@code {"name"}} when given, else {@code {}}. */
  public Snapshot createSnapshot(String sandboxId, @Nullable String name) {
    JsonObject body = new JsonObject();
    if (name != null && !name.isEmpty()) {
      body.addProperty("name", name);
    }
    ApiClient.Response response =
        api.send("POST", "/sandboxes/" + ApiClient.pathSegment(sandboxId) + "/snapshots", body);
    if (response.status() / 100 != 2) {
      throw ApiClient.error(response, "Sandbox " + sandboxId + " not found");
    }
    return snapshot(ApiClient.object(response));
  }

  /**
   * {@code GET /snapshots?sandboxID=&limit=&nextToken=}; the next token is {@code X-Next-Token}.
   */
  public SnapshotPage listSnapshots(
      @Nullable String sandboxId, @Nullable Integer limit, @Nullable String nextToken) {
    StringJoiner params = new StringJoiner("&", "?", "").setEmptyValue("");
    if (sandboxId != null) {
      params.add("sandboxID=" + UrlEncoding.component(sandboxId));
    }
    if (limit != null) {
      params.add("limit=" + limit);
    }
    if (nextToken != null) {
      params.add("nextToken=" + UrlEncoding.component(nextToken));
    }
    ApiClient.Response response = api.send("GET", "/snapshots" + params, null);
    if (response.status() != 200) {
      throw ApiClient.error(response, null);
    }
    List<Snapshot> snapshots = new ArrayList<>();
    for (JsonElement element : ApiClient.array(response)) {
      snapshots.add(snapshot(element.getAsJsonObject()));
    }
    String next = response.raw().headers().firstValue("X-Next-Token").orElse(null);
    return new SnapshotPage(snapshots, next == null || next.isEmpty() ? null : next);
  }

  /** {@code DELETE /templates/{snapshotID}}: true when deleted, false when there was none. */
  public boolean deleteSnapshot(String snapshotId) {
    ApiClient.Response response =
        api.send("DELETE", "/templates/" + ApiClient.pathSegment(snapshotId), null);
    if (response.status() == 404) {
      return false;
    }
    if (response.status() / 100 != 2) {
      throw ApiClient.error(response, null);
    }
    return true;
  }

  /** {@code POST /sandboxes/{id}/fork} {@code {"timeout"?, "count"}}: one entry per child. */
  public List<ForkChild> fork(String sandboxId, int count, @Nullable Duration timeout) {
    JsonObject body = new JsonObject();
    if (timeout != null) {
      body.addProperty("timeout", ApiClient.seconds(timeout));
    }
    body.addProperty("count", count);
    ApiClient.Response response =
        api.send("POST", "/sandboxes/" + ApiClient.pathSegment(sandboxId) + "/fork", body);
    if (response.status() / 100 != 2) {
      throw ApiClient.error(response, "Sandbox " + sandboxId + " not found");
    }
    List<ForkChild> children = new ArrayList<>();
    for (JsonElement element : ApiClient.array(response)) {
      JsonObject result = element.getAsJsonObject();
      JsonElement sandbox = result.get("sandbox");
      if (sandbox != null && sandbox.isJsonObject()) {
        children.add(new ForkChild(handle(sandbox.getAsJsonObject()), null));
        continue;
      }
      JsonElement error = result.get("error");
      if (error == null || !error.isJsonObject()) {
        children.add(new ForkChild(null, new SandboxException("Failed to start forked sandbox")));
        continue;
      }
      JsonObject e = error.getAsJsonObject();
      int code = e.has("code") ? e.get("code").getAsInt() : 500;
      String message = e.has("message") ? e.get("message").getAsString() : "";
      children.add(new ForkChild(null, childError(code, message)));
    }
    return children;
  }

  private static Snapshot snapshot(JsonObject o) {
    JsonElement id = o.get("snapshotID");
    if (id == null || id.isJsonNull()) {
      throw new SandboxException("the API's answer lacks the field 'snapshotID'");
    }
    List<String> names = new ArrayList<>();
    JsonElement list = o.get("names");
    if (list != null && list.isJsonArray()) {
      list.getAsJsonArray().forEach(n -> names.add(n.getAsString()));
    }
    return new Snapshot(id.getAsString(), List.copyOf(names));
  }

  /** A child's error as the SDK's exception (E2B: {@code apiErrorFromCode}). */
  static SandboxException childError(int code, String message) {
    return switch (code) {
      case 401 ->
          new AuthenticationException("Unauthorized, please check your credentials. " + message);
      case 429 -> new RateLimitException("Rate limit exceeded, please try again later. " + message);
      case 404 -> new NotFoundException("404: " + message);
      default -> new SandboxException(code + ": " + message);
    };
  }

  private static ApiClient.SandboxHandle handle(JsonObject o) {
    return new ApiClient.SandboxHandle(
        required(o, "sandboxID"),
        required(o, "templateID"),
        required(o, "envdVersion"),
        optional(o, "envdAccessToken"),
        optional(o, "trafficAccessToken"),
        optional(o, "domain"));
  }

  private static String required(JsonObject o, String field) {
    String value = optional(o, field);
    if (value == null) {
      throw new SandboxException("the API's answer lacks the field '" + field + "'");
    }
    return value;
  }

  private static @Nullable String optional(JsonObject o, String field) {
    JsonElement value = o.get(field);
    return value == null || value.isJsonNull() ? null : value.getAsString();
  }
}
