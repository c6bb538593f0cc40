package dev.sbx.connect;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The JSON forms of Connect errors: the unary error body {@code {"code":..,"message":..}} and the
 * end-stream message {@code {}} / {@code {"error":{..},"metadata":{..}}}.
 */
final class ErrorJson {
  private static final JsonFormat.Parser PARSER = JsonFormat.parser();

  private ErrorJson() {}

  /** The unary error body. */
  static byte[] errorBody(ConnectException error) {
    return errorObject(error).getBytes(StandardCharsets.UTF_8);
  }

  /** The end-stream message: {@code {}} on success, else {@code {"error":{...}}}. */
  static byte[] endStream(@Nullable ConnectException error) {
    String json = error == null ? "{}" : "{\"error\":" + errorObject(error) + "}";
    return json.getBytes(StandardCharsets.UTF_8);
  }

  private static String errorObject(ConnectException error) {
    StringBuilder json = new StringBuilder("{\"code\":");
    quote(error.code().wireName(), json);
    if (!error.getMessage().isEmpty()) {
      json.append(",\"message\":");
      quote(error.getMessage(), json);
    }
    return json.append('}').toString();
  }

  /** Appends a JSON string literal. */
  static void quote(String text, StringBuilder json) {
    json.append('"');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '"' -> json.append("\\\"");
        case '\\' -> json.append("\\\\");
        case '\n' -> json.append("\\n");
        case '\r' -> json.append("\\r");
        case '\t' -> json.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x2028 || c == 0x2029) {
            json.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
          } else {
            json.append(c);
          }
        }
      }
    }
    json.append('"');
  }

  /** A JSON object, or {@code null} when the bytes are not one. */
  static @Nullable Struct parseObject(byte[] json) {
    try {
      Struct.Builder builder = Struct.newBuilder();
      PARSER.merge(new String(json, StandardCharsets.UTF_8), builder);
      return builder.build();
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      return null;
    }
  }

  /**
   * The Connect error in a unary error body, or {@code null} when the object has no valid string
   * {@code code}.
   */
  static @Nullable ConnectException parseError(Struct object) {
    Value code = object.getFieldsOrDefault("code", Value.getDefaultInstance());
    if (code.getKindCase() != Value.KindCase.STRING_VALUE) {
      return null;
    }
    ConnectCode connectCode = ConnectCode.fromWireName(code.getStringValue());
    if (connectCode == null) {
      return null;
    }
    return new ConnectException(connectCode, stringField(object, "message"));
  }

  /** The string field of an object, or "" when absent or not a string. */
  static String stringField(Struct object, String name) {
    Value value = object.getFieldsOrDefault(name, Value.getDefaultInstance());
    return value.getKindCase() == Value.KindCase.STRING_VALUE ? value.getStringValue() : "";
  }

  /** The {@code metadata} of an end-stream message: header name to values. */
  static Map<String, List<String>> metadata(Struct endStream) {
    Value metadata = endStream.getFieldsOrDefault("metadata", Value.getDefaultInstance());
    if (metadata.getKindCase() != Value.KindCase.STRUCT_VALUE) {
      return Map.of();
    }
    Map<String, List<String>> result = new LinkedHashMap<>();
    metadata
        .getStructValue()
        .getFieldsMap()
        .forEach(
            (name, values) -> {
              List<String> strings = new ArrayList<>();
              ListValue list = values.getListValue();
              for (Value value : list.getValuesList()) {
                if (value.getKindCase() == Value.KindCase.STRING_VALUE) {
                  strings.add(value.getStringValue());
                }
              }
              result.put(name, List.copyOf(strings));
            });
    return Map.copyOf(result);
  }
}
