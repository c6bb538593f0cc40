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
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().omittingInsignificantWhitespace();
  private static final JsonFormat.Parser PARSER = JsonFormat.parser();

  private ErrorJson() {}

  /** The unary error body. */
  static byte[] errorBody(ConnectException error) {
    return print(errorStruct(error));
  }

  /** The end-stream message: {@code {}} on success, else {@code {"error":{...}}}. */
  static byte[] endStream(@Nullable ConnectException error) {
    Struct.Builder end = Struct.newBuilder();
    if (error != null) {
      end.putFields("error", Value.newBuilder().setStructValue(errorStruct(error)).build());
    }
    return print(end.build());
  }

  private static Struct errorStruct(ConnectException error) {
    Struct.Builder struct = Struct.newBuilder().putFields("code", text(error.code().wireName()));
    if (!error.getMessage().isEmpty()) {
      struct.putFields("message", text(error.getMessage()));
    }
    return struct.build();
  }

  private static Value text(String value) {
    return Value.newBuilder().setStringValue(value).build();
  }

  private static byte[] print(Struct struct) {
    try {
      return PRINTER.print(struct).getBytes(StandardCharsets.UTF_8);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("a Struct of strings always prints", e);
    }
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
