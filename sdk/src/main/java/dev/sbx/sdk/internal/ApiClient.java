package dev.sbx.sdk.internal;

import static java.util.Objects.requireNonNull;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.sbx.connect.ConnectClient;
import dev.sbx.sdk.AuthenticationException;
import dev.sbx.sdk.ConnectionConfig;
import dev.sbx.sdk.NotFoundException;
import dev.sbx.sdk.RateLimitException;
import dev.sbx.sdk.SandboxException;
import dev.sbx.sdk.SandboxInfo;
import dev.sbx.sdk.SandboxLogEntry;
import dev.sbx.sdk.SandboxLogQuery;
import dev.sbx.sdk.SandboxMetrics;
import dev.sbx.sdk.SandboxQuery;
import dev.sbx.sdk.SandboxState;
import dev.sbx.sdk.TimeoutException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import org.jspecify.annotations.Nullable;

/**
 * The control-plane REST API as E2B's JS SDK 2.51 calls it: JSON bodies, {@code X-API-KEY}, errors
 * as {@code {code, message}} mapped to the SDK's exceptions, 429 with {@code Retry-After} retried.
 */
public final class ApiClient {
  private static final int ERROR_SNIPPET_CHARS = 256;

  /** One HTTP client for all API calls of the JVM (it pools connections; never closed). */
  private static final HttpClient HTTP = ConnectClient.newHttpClient(Duration.ofSeconds(10));

  private final ConnectionConfig config;

  public ApiClient(ConnectionConfig config) {
    this.config = requireNonNull(config, "config");
  }

  /** What create and connect return. */
  public record SandboxHandle(
      String sandboxId,
      String templateId,
      String envdVersion,
      @Nullable String envdAccessToken,
      @Nullable String trafficAccessToken,
      @Nullable String domain) {}

  /** One page of a list. */
  public record Page(List<SandboxInfo> sandboxes, @Nullable String nextToken) {}

  /** An API response. */
  record Response(int status, HttpResponse<byte[]> raw) {
    String text() {
      return new String(raw.body(), StandardCharsets.UTF_8);
    }
  }

  /** {@code POST /v2/sandboxes} with only the fields that were set (JS SDK 2.51). */
  public SandboxHandle create(JsonObject body) {
    Response response = send("POST", "/v2/sandboxes", body);
    if (response.status() != 201 && response.status() != 200) {
      throw error(response, null);
    }
    return handle(response);
  }

  /** {@code POST /v2/sandboxes/{id}/connect}, body {@code {}} or {@code {"timeout":s}}. */
  public SandboxHandle connect(String sandboxId, @Nullable Duration timeout) {
    JsonObject body = new JsonObject();
    if (timeout != null) {
      body.addProperty("timeout", seconds(timeout));
    }
    Response response = send("POST", "/v2/sandboxes/" + pathSegment(sandboxId) + "/connect", body);
    if (response.status() != 200 && response.status() != 201) {
      throw error(response, "Paused sandbox " + sandboxId + " not found");
    }
    return handle(response);
  }

  /** {@code DELETE /sandboxes/{id}}: true when killed, false when it did not exist. */
  public boolean kill(String sandboxId) {
    Response response = send("DELETE", "/sandboxes/" + pathSegment(sandboxId), null);
    if (response.status() == 404) {
      return false;
    }
    if (response.status() / 100 != 2) {
      throw error(response, null);
    }
    return true;
  }

  /** {@code POST /sandboxes/{id}/timeout} {@code {"timeout": s}}. */
  public void setTimeout(String sandboxId, Duration timeout) {
    JsonObject body = new JsonObject();
    body.addProperty("timeout", seconds(timeout));
    Response response = send("POST", "/sandboxes/" + pathSegment(sandboxId) + "/timeout", body);
    if (response.status() / 100 != 2) {
      throw error(response, "Sandbox " + sandboxId + " not found");
    }
  }

  /** {@code GET /sandboxes/{id}}. */
  public SandboxInfo getInfo(String sandboxId) {
    Response response = send("GET", "/sandboxes/" + pathSegment(sandboxId), null);
    if (response.status() != 200) {
      throw error(response, "Sandbox " + sandboxId + " not found");
    }
    return info(object(response));
  }

  /** {@code GET /sandboxes/{id}/metrics[?start=&end=]} (unix seconds). */
  public List<SandboxMetrics> metrics(
      String sandboxId, @Nullable Instant start, @Nullable Instant end) {
    StringJoiner query = new StringJoiner("&", "?", "").setEmptyValue("");
    if (start != null) {
      query.add("start=" + start.getEpochSecond());
    }
    if (end != null) {
      query.add("end=" + end.getEpochSecond());
    }
    Response response =
        send("GET", "/sandboxes/" + pathSegment(sandboxId) + "/metrics" + query, null);
    if (response.status() != 200) {
      throw error(response, "Sandbox " + sandboxId + " not found");
    }
    List<SandboxMetrics> metrics = new ArrayList<>();
    for (JsonElement element : array(response)) {
      JsonObject m = element.getAsJsonObject();
      Instant timestamp =
          m.has("timestampUnix") && !m.get("timestampUnix").isJsonNull()
              ? Instant.ofEpochSecond(m.get("timestampUnix").getAsLong())
              : instant(m, "timestamp");
      metrics.add(
          new SandboxMetrics(
              timestamp,
              intField(m, "cpuCount"),
              m.has("cpuUsedPct") ? m.get("cpuUsedPct").getAsDouble() : 0,
              longField(m, "memUsed"),
              longField(m, "memTotal"),
              longField(m, "memCache"),
              longField(m, "diskUsed"),
              longField(m, "diskTotal")));
    }
    return metrics;
  }

  /** {@code GET /v2/sandboxes/{id}/logs?cursor=&limit=&direction=&level=&search=}. */
  public List<SandboxLogEntry> logs(String sandboxId, SandboxLogQuery query) {
    StringJoiner params = new StringJoiner("&", "?", "").setEmptyValue("");
    Instant cursor = query.cursor();
    if (cursor != null) {
      params.add("cursor=" + cursor.toEpochMilli());
    }
    if (query.limit() != null) {
      params.add("limit=" + query.limit());
    }
    if (query.backward()) {
      params.add("direction=backward");
    }
    String level = query.level();
    if (level != null) {
      params.add("level=" + UrlEncoding.component(level));
    }
    String search = query.search();
    if (search != null) {
      params.add("search=" + UrlEncoding.component(search));
    }
    Response response =
        send("GET", "/v2/sandboxes/" + pathSegment(sandboxId) + "/logs" + params, null);
    if (response.status() != 200) {
      throw error(response, "Sandbox " + sandboxId + " not found");
    }
    JsonElement logs = object(response).get("logs");
    if (logs == null || !logs.isJsonArray()) {
      throw new SandboxException("the API's answer lacks the array 'logs': " + snippet(response));
    }
    List<SandboxLogEntry> entries = new ArrayList<>();
    for (JsonElement element : logs.getAsJsonArray()) {
      JsonObject e = element.getAsJsonObject();
      Map<String, String> fields = new LinkedHashMap<>();
      JsonElement f = e.get("fields");
      if (f != null && f.isJsonObject()) {
        f.getAsJsonObject()
            .entrySet()
            .forEach(
                field ->
                    fields.put(
                        field.getKey(),
                        field.getValue().isJsonPrimitive()
                            ? field.getValue().getAsString()
                            : field.getValue().toString()));
      }
      String entryLevel = optionalString(e, "level");
      String message = optionalString(e, "message");
      entries.add(
          new SandboxLogEntry(
              instant(e, "timestamp"),
              entryLevel == null ? "info" : entryLevel,
              message == null ? "" : message,
              fields));
    }
    return entries;
  }

  /**
   * {@code GET /v2/sandboxes?metadata=&state=&limit=&nextToken=}; the next page's token is the
   * {@code X-Next-Token} response header.
   */
  public Page list(SandboxQuery query, @Nullable String nextToken) {
    StringJoiner params = new StringJoiner("&", "?", "").setEmptyValue("");
    if (!query.metadata().isEmpty()) {
      StringJoiner pairs = new StringJoiner("&");
      query
          .metadata()
          .forEach((k, v) -> pairs.add(UrlEncoding.form(k) + "=" + UrlEncoding.form(v)));
      params.add("metadata=" + UrlEncoding.component(pairs.toString()));
    }
    if (!query.states().isEmpty()) {
      StringJoiner states = new StringJoiner(",");
      query.states().forEach(s -> states.add(s.wireName()));
      params.add("state=" + states);
    }
    if (query.limit() != null) {
      params.add("limit=" + query.limit());
    }
    if (nextToken != null) {
      params.add("nextToken=" + UrlEncoding.component(nextToken));
    }
    Response response = send("GET", "/v2/sandboxes" + params, null);
    if (response.status() != 200) {
      throw error(response, null);
    }
    List<SandboxInfo> sandboxes = new ArrayList<>();
    for (JsonElement element : array(response)) {
      sandboxes.add(info(element.getAsJsonObject()));
    }
    String next = response.raw().headers().firstValue("X-Next-Token").orElse(null);
    return new Page(sandboxes, next == null || next.isEmpty() ? null : next);
  }

  Response send(String method, String pathAndQuery, @Nullable JsonObject body) {
    String apiKey = config.apiKey();
    if (apiKey == null) {
      throw new AuthenticationException(
          "API key is required, please visit the Team tab at https://e2b.dev/dashboard to get"
              + " your API key. You can either set the environment variable `E2B_API_KEY` or you"
              + " can pass it directly to the method like ConnectionConfig.builder().apiKey(...)");
    }
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(config.apiUrl() + pathAndQuery));
    config.apiHeaders().forEach(request::setHeader);
    request.setHeader("X-API-KEY", apiKey);
    request.setHeader("User-Agent", SdkVersion.USER_AGENT);
    request.setHeader("lang", "java");
    request.setHeader("lang_version", System.getProperty("java.version", "unknown"));
    request.setHeader("package_version", SdkVersion.VERSION);
    request.setHeader("publisher", "sbx");
    request.setHeader("sdk_runtime", "jvm");
    request.setHeader("system", System.getProperty("os.name", "unknown"));
    if (!config.requestTimeout().isZero()) {
      request.timeout(config.requestTimeout());
    }
    if (body != null) {
      request.setHeader("Content-Type", "application/json");
      request.method(
          method, HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8));
    } else {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    }
    HttpRequest built = request.build();
    for (int attempt = 0; ; attempt++) {
      HttpResponse<byte[]> raw;
      try {
        raw = HTTP.send(built, HttpResponse.BodyHandlers.ofByteArray());
      } catch (HttpTimeoutException e) {
        throw new TimeoutException(
            "Request timed out: the API did not answer "
                + method
                + " "
                + pathAndQuery
                + " within "
                + config.requestTimeout().toMillis()
                + " ms",
            e);
      } catch (IOException e) {
        throw new SandboxException(
            "API request " + method + " " + pathAndQuery + " failed: " + e, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new SandboxException("interrupted", e);
      }
      Long retryAfter = retryAfterSeconds(raw);
      if (raw.statusCode() == 429 && retryAfter != null && attempt < config.retries()) {
        try {
          Thread.sleep(Duration.ofSeconds(retryAfter));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new SandboxException("interrupted", e);
        }
        continue;
      }
      return new Response(raw.statusCode(), raw);
    }
  }

  private static @Nullable Long retryAfterSeconds(HttpResponse<byte[]> raw) {
    String value = raw.headers().firstValue("Retry-After").orElse(null);
    if (value == null) {
      return null;
    }
    try {
      long seconds = Long.parseLong(value.strip());
      return seconds < 0 ? null : Math.min(seconds, 60);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /**
   * The exception of a failed response: 401 authentication, 429 rate limit, 404 not found (with
   * {@code notFoundMessage} when given), anything else {@code "<status>: <message>"}.
   */
  static SandboxException error(Response response, @Nullable String notFoundMessage) {
    String message = message(response);
    return switch (response.status()) {
      case 401 ->
          new AuthenticationException("Unauthorized, please check your credentials. " + message);
      case 429 -> new RateLimitException("Rate limit exceeded, please try again later. " + message);
      case 404 ->
          new NotFoundException(
              notFoundMessage != null ? notFoundMessage + ": " + message : "404: " + message);
      default -> new SandboxException(response.status() + ": " + message);
    };
  }

  private static String message(Response response) {
    String text = response.text().strip();
    try {
      JsonElement parsed = JsonParser.parseString(text);
      if (parsed.isJsonObject()) {
        JsonElement message = parsed.getAsJsonObject().get("message");
        if (message != null && message.isJsonPrimitive()) {
          return message.getAsString();
        }
      }
    } catch (JsonParseException e) {
      // not JSON: show the text
    }
    return text.length() > ERROR_SNIPPET_CHARS
        ? text.substring(0, ERROR_SNIPPET_CHARS) + "..."
        : text;
  }

  private static SandboxHandle handle(Response response) {
    JsonObject o = object(response);
    return new SandboxHandle(
        requiredString(o, "sandboxID"),
        requiredString(o, "templateID"),
        requiredString(o, "envdVersion"),
        optionalString(o, "envdAccessToken"),
        optionalString(o, "trafficAccessToken"),
        optionalString(o, "domain"));
  }

  private static SandboxInfo info(JsonObject o) {
    Map<String, String> metadata = new LinkedHashMap<>();
    JsonElement m = o.get("metadata");
    if (m != null && m.isJsonObject()) {
      m.getAsJsonObject()
          .entrySet()
          .forEach(e -> metadata.put(e.getKey(), e.getValue().getAsString()));
    }
    String state = optionalString(o, "state");
    return new SandboxInfo(
        requiredString(o, "sandboxID"),
        requiredString(o, "templateID"),
        optionalString(o, "alias"),
        metadata,
        instant(o, "startedAt"),
        instant(o, "endAt"),
        state == null ? SandboxState.RUNNING : SandboxState.fromWireName(state),
        intField(o, "cpuCount"),
        intField(o, "memoryMB"),
        intField(o, "diskSizeMB"),
        requiredString(o, "envdVersion"));
  }

  static JsonObject object(Response response) {
    JsonElement parsed = parse(response);
    if (!parsed.isJsonObject()) {
      throw new SandboxException(
          "the API answered with JSON that is not an object: " + snippet(response));
    }
    return parsed.getAsJsonObject();
  }

  static JsonArray array(Response response) {
    JsonElement parsed = parse(response);
    if (!parsed.isJsonArray()) {
      throw new SandboxException(
          "the API answered with JSON that is not an array: " + snippet(response));
    }
    return parsed.getAsJsonArray();
  }

  private static JsonElement parse(Response response) {
    try {
      return JsonParser.parseString(response.text());
    } catch (JsonParseException e) {
      throw new SandboxException("the API answered with invalid JSON: " + snippet(response), e);
    }
  }

  private static String snippet(Response response) {
    String text = response.text();
    return text.length() > ERROR_SNIPPET_CHARS
        ? text.substring(0, ERROR_SNIPPET_CHARS) + "..."
        : text;
  }

  private static String requiredString(JsonObject o, String field) {
    String value = optionalString(o, field);
    if (value == null) {
      throw new SandboxException("the API's answer lacks the field '" + field + "'");
    }
    return value;
  }

  private static @Nullable String optionalString(JsonObject o, String field) {
    JsonElement value = o.get(field);
    return value == null || value.isJsonNull() ? null : value.getAsString();
  }

  private static int intField(JsonObject o, String field) {
    JsonElement value = o.get(field);
    return value == null || value.isJsonNull() ? 0 : value.getAsInt();
  }

  private static long longField(JsonObject o, String field) {
    JsonElement value = o.get(field);
    return value == null || value.isJsonNull() ? 0 : value.getAsLong();
  }

  private static Instant instant(JsonObject o, String field) {
    String value = requiredString(o, field);
    try {
      return Instant.parse(value);
    } catch (DateTimeParseException e) {
      try {
        return java.time.OffsetDateTime.parse(value).toInstant();
      } catch (DateTimeParseException e2) {
        throw new SandboxException("the API's '" + field + "' is not a date-time: " + value, e2);
      }
    }
  }

  /** A duration as the API's whole seconds, rounded up (E2B: {@code ceil(ms / 1000)}). */
  public static long seconds(Duration duration) {
    long millis = duration.toMillis();
    return (millis + 999) / 1000;
  }

  static String pathSegment(String sandboxId) {
    requireNonNull(sandboxId, "sandboxId");
    if (sandboxId.isEmpty()) {
      throw new dev.sbx.sdk.InvalidArgumentException("sandboxId must not be empty");
    }
    return UrlEncoding.component(sandboxId);
  }
}
