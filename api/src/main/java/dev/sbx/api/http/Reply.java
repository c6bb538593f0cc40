package dev.sbx.api.http;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** What an endpoint answers: a status, headers and a body (JSON, text or none). */
public record Reply(
    int status, Map<String, String> headers, @Nullable String body, @Nullable String contentType) {

  public static Reply json(int status, JsonObject body) {
    return new Reply(status, new LinkedHashMap<>(), body.encode(), "application/json");
  }

  public static Reply json(int status, JsonArray body) {
    return new Reply(status, new LinkedHashMap<>(), body.encode(), "application/json");
  }

  public static Reply noContent() {
    return new Reply(204, new LinkedHashMap<>(), null, null);
  }

  public static Reply text(int status, String contentType, String body) {
    return new Reply(status, new LinkedHashMap<>(), body, contentType);
  }

  /** E2B's error body. */
  public static Reply error(ApiException e) {
    JsonObject body = new JsonObject().put("code", e.status()).put("message", e.getMessage());
    if (e.errorCode() != null) {
      body.put("error_code", e.errorCode());
    }
    Reply reply = json(e.status(), body);
    if (e.retryAfterSeconds() != null) {
      reply.headers().put("Retry-After", String.valueOf(e.retryAfterSeconds()));
    }
    return reply;
  }

  public Reply header(String name, String value) {
    headers.put(name, value);
    return this;
  }
}
