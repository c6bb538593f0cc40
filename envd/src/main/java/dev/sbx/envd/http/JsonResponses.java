package dev.sbx.envd.http;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** Writes JSON replies: envd's error body and the JSON bodies of its routes. */
public final class JsonResponses {
  /** The content type of envd's error replies. */
  public static final String ERROR_CONTENT_TYPE = "application/json; charset=utf-8";

  private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

  private JsonResponses() {}

  /** Sends {@code body} with {@code status} and {@code Content-Type: application/json}. */
  public static void send(HttpExchange exchange, int status, JsonElement body) throws IOException {
    write(exchange, status, "application/json", GSON.toJson(body));
  }

  /** Sends envd's error body {@code {"code":status,"message":message}}. */
  public static void sendError(HttpExchange exchange, int status, String message)
      throws IOException {
    JsonObject error = new JsonObject();
    error.addProperty("code", status);
    error.addProperty("message", message);
    write(exchange, status, ERROR_CONTENT_TYPE, GSON.toJson(error));
  }

  /** The JSON text of {@code element}. */
  public static String toJson(JsonElement element) {
    return GSON.toJson(element);
  }

  private static void write(HttpExchange exchange, int status, String contentType, String json)
      throws IOException {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }
}
