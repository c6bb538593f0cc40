package dev.sbx.envd.http;

import static java.util.Objects.requireNonNull;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.sbx.envd.EnvdConfig;
import dev.sbx.envd.SandboxSettings;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * {@code POST /init}: the control plane hands the sandbox its environment, access token, default
 * user and workdir (after every start and resume, retried until it succeeds). Replies 204 with
 * {@code X-Envd-Version}.
 *
 * <p>Access: open while no token is set. Once one is set, the request must prove it knows it,
 * either in {@code X-Access-Token} or as the body's {@code accessToken} (E2B's envd accepts the
 * latter; it has no MMDS here to authorise a token change otherwise); else 401.
 *
 * <p>An init whose {@code timestamp} is older than the last one applied changes nothing. A newer
 * one also sets the guest clock when it is off (see {@link SystemClock}). {@code volumeMounts},
 * {@code hyperloopIP}, {@code lifecycleID} and {@code caBundle} are accepted and not acted on.
 */
public final class InitRoute implements HttpHandler {
  private static final int MAX_BODY_BYTES = 16 * 1024 * 1024;
  private static final Gson GSON = new Gson();
  private static final Logger LOG = System.getLogger(InitRoute.class.getName());

  private final SandboxSettings settings;
  private final SystemClock clock;

  public InitRoute(SandboxSettings settings, SystemClock clock) {
    this.settings = requireNonNull(settings, "settings");
    this.clock = requireNonNull(clock, "clock");
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    JsonObject body = parse(readBody(exchange));
    SandboxSettings.Init init = toInit(body);
    Optional<String> token = settings.accessToken();
    if (token.isPresent()
        && !AccessTokens.matches(
            token.get(), exchange.getRequestHeaders().getFirst(AccessTokens.HEADER))
        && !AccessTokens.matches(token.get(), init.accessToken())) {
      throw new HttpStatusException(401, EnvdRouter.UNAUTHORIZED);
    }
    boolean applied = settings.apply(init);
    if (applied && init.timestamp() != null) {
      clock.syncTo(init.timestamp());
    }
    if (applied) {
      Map<String, String> envVars = init.envVars();
      String user = init.defaultUser();
      LOG.log(
          Level.INFO,
          "init: {0} env vars, access token {1}, default user {2}",
          envVars == null ? 0 : envVars.size(),
          init.accessToken() == null ? "none" : "set",
          user == null ? "unchanged" : user);
    }
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    exchange.getResponseHeaders().set("X-Envd-Version", EnvdConfig.VERSION);
    exchange.sendResponseHeaders(204, -1);
  }

  private static String readBody(HttpExchange exchange) throws IOException {
    try (InputStream in = exchange.getRequestBody()) {
      byte[] bytes = in.readNBytes(MAX_BODY_BYTES + 1);
      if (bytes.length > MAX_BODY_BYTES) {
        throw new HttpStatusException(413, "init body is larger than " + MAX_BODY_BYTES + " bytes");
      }
      return new String(bytes, StandardCharsets.UTF_8);
    }
  }

  /** Strict JSON: one object (an empty body counts as {@code {}}), nothing after it. */
  static JsonObject parse(String text) {
    if (text.isBlank()) {
      return new JsonObject();
    }
    try {
      JsonReader reader = new JsonReader(new StringReader(text));
      reader.setLenient(false);
      JsonElement element = GSON.getAdapter(JsonElement.class).read(reader);
      if (reader.peek() != JsonToken.END_DOCUMENT) {
        throw new HttpStatusException(400, "malformed init body: data after the JSON object");
      }
      if (!element.isJsonObject()) {
        throw new HttpStatusException(400, "malformed init body: not a JSON object");
      }
      return element.getAsJsonObject();
    } catch (IOException | JsonParseException | IllegalStateException e) {
      throw new HttpStatusException(400, "malformed init body: " + e.getMessage(), e);
    }
  }

  static SandboxSettings.Init toInit(JsonObject body) {
    Map<String, String> envVars = null;
    JsonElement envs = body.get("envVars");
    if (envs != null && !envs.isJsonNull()) {
      if (!envs.isJsonObject()) {
        throw new HttpStatusException(400, "malformed init body: envVars is not an object");
      }
      envVars = new LinkedHashMap<>();
      for (Map.Entry<String, JsonElement> e : envs.getAsJsonObject().entrySet()) {
        String value = string(e.getValue(), "envVars." + e.getKey());
        envVars.put(e.getKey(), value == null ? "" : value);
      }
    }
    String timestamp = string(body.get("timestamp"), "timestamp");
    Instant instant = null;
    if (timestamp != null) {
      try {
        instant = OffsetDateTime.parse(timestamp).toInstant();
      } catch (DateTimeParseException e) {
        throw new HttpStatusException(
            400, "malformed init body: timestamp '" + timestamp + "' is not RFC 3339", e);
      }
    }
    return new SandboxSettings.Init(
        envVars,
        string(body.get("accessToken"), "accessToken"),
        string(body.get("defaultUser"), "defaultUser"),
        string(body.get("defaultWorkdir"), "defaultWorkdir"),
        instant);
  }

  private static @Nullable String string(@Nullable JsonElement element, String field) {
    if (element == null || element.isJsonNull()) {
      return null;
    }
    if (!element.isJsonPrimitive() || !element.getAsJsonPrimitive().isString()) {
      throw new HttpStatusException(400, "malformed init body: " + field + " is not a string");
    }
    return element.getAsString();
  }
}
