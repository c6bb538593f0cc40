package dev.sbx.api.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A JSON request body read field by field, each checked against its type: a wrong type is a 400
 * {@code validation error}, never a 500.
 */
public final class JsonBody {
  private final JsonObject object;

  private JsonBody(JsonObject object) {
    this.object = object;
  }

  /**
   * Parses a body that must be a JSON object; an empty body is {@code {}} when {@code optional},
   * else a 400.
   */
  public static JsonBody parse(@Nullable Buffer body, boolean optional) {
    if (body == null || body.length() == 0 || body.toString().isBlank()) {
      if (optional) {
        return new JsonBody(new JsonObject());
      }
      throw ApiException.validation("request body has an error: value is required but missing");
    }
    Object value;
    try {
      value = io.vertx.core.json.Json.decodeValue(body);
    } catch (DecodeException e) {
      throw ApiException.validation(
          "request body has an error: failed to decode request body: invalid JSON");
    }
    if (!(value instanceof JsonObject json)) {
      throw ApiException.validation(
          "request body has an error: doesn't match schema: value must be an object");
    }
    return new JsonBody(json);
  }

  public boolean has(String field) {
    return object.containsKey(field) && object.getValue(field) != null;
  }

  private static ApiException wrongType(String field, String type) {
    return ApiException.validation(
        "request body has an error: doesn't match schema: Error at \"/"
            + field
            + "\": value must be "
            + type);
  }

  public String requiredString(String field) {
    String value = string(field);
    if (value == null) {
      throw ApiException.validation(
          "request body has an error: doesn't match schema: Error at \"/"
              + field
              + "\": property \""
              + field
              + "\" is missing");
    }
    return value;
  }

  public @Nullable String string(String field) {
    Object value = object.getValue(field);
    if (value == null) {
      return null;
    }
    if (value instanceof String s) {
      return s;
    }
    throw wrongType(field, "a string");
  }

  /** An int32 (a JSON number without a fraction), or null if absent. */
  public @Nullable Integer integer(String field) {
    Object value = object.getValue(field);
    if (value == null) {
      return null;
    }
    if (value instanceof Integer i) {
      return i;
    }
    if (value instanceof Long
        || value instanceof Double d && d == Math.rint(d) && !Double.isInfinite(d)) {
      throw ApiException.validation(
          "request body has an error: doesn't match schema: Error at \"/"
              + field
              + "\": number must be an int32");
    }
    throw wrongType(field, "an integer");
  }

  public @Nullable Boolean bool(String field) {
    Object value = object.getValue(field);
    if (value == null) {
      return null;
    }
    if (value instanceof Boolean b) {
      return b;
    }
    throw wrongType(field, "a boolean");
  }

  public @Nullable JsonBody object(String field) {
    Object value = object.getValue(field);
    if (value == null) {
      return null;
    }
    if (value instanceof JsonObject o) {
      return new JsonBody(o);
    }
    throw wrongType(field, "an object");
  }

  /** A map of strings ({@code metadata}, {@code envVars}); empty if absent. */
  public Map<String, String> stringMap(String field) {
    Object value = object.getValue(field);
    if (value == null) {
      return Map.of();
    }
    if (!(value instanceof JsonObject o)) {
      throw wrongType(field, "an object");
    }
    Map<String, String> map = new LinkedHashMap<>();
    for (Map.Entry<String, Object> entry : o) {
      if (!(entry.getValue() instanceof String s)) {
        throw wrongType(field + "/" + entry.getKey(), "a string");
      }
      map.put(entry.getKey(), s);
    }
    return map;
  }

  /** A list of strings; empty if absent. */
  public List<String> stringList(String field) {
    Object value = object.getValue(field);
    if (value == null) {
      return List.of();
    }
    if (!(value instanceof JsonArray array)) {
      throw wrongType(field, "an array");
    }
    List<String> list = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      if (!(array.getValue(i) instanceof String s)) {
        throw wrongType(field + "/" + i, "a string");
      }
      list.add(s);
    }
    return list;
  }

  public JsonObject json() {
    return object;
  }
}
