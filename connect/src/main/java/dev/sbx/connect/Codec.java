package dev.sbx.connect;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * How messages are encoded on the wire: proto3 canonical JSON ({@code application/json}, {@code
 * application/connect+json}) or binary protobuf ({@code application/proto}, {@code
 * application/connect+proto}).
 */
public enum Codec {
  /**
   * proto3 canonical JSON: lowerCamelCase names, default values omitted, unknown fields ignored.
   */
  JSON("json"),
  /** Binary protobuf. */
  PROTO("proto");

  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().omittingInsignificantWhitespace();
  private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();

  private final String name;

  Codec(String name) {
    this.name = name;
  }

  /** The codec's name as in content types: {@code json} or {@code proto}. */
  public String codecName() {
    return name;
  }

  /** The content type of unary calls, e.g. {@code application/json}. */
  public String unaryContentType() {
    return "application/" + name;
  }

  /** The content type of streaming calls, e.g. {@code application/connect+json}. */
  public String streamContentType() {
    return "application/connect+" + name;
  }

  /** Encodes a message. */
  public byte[] encode(Message message) {
    requireNonNull(message, "message");
    return switch (this) {
      case JSON -> {
        try {
          yield PRINTER.print(message).getBytes(StandardCharsets.UTF_8);
        } catch (InvalidProtocolBufferException e) {
          throw new ConnectException(
              ConnectCode.INTERNAL, "cannot encode " + message.getDescriptorForType(), e);
        }
      }
      case PROTO -> message.toByteArray();
    };
  }

  /**
   * Decodes a message of the prototype's type; throws {@link ConnectException} ({@code
   * invalid_argument}) if the bytes are not one.
   */
  @SuppressWarnings("unchecked") // the builder of a prototype builds messages of its type
  public <M extends Message> M decode(byte[] bytes, M prototype) {
    requireNonNull(bytes, "bytes");
    requireNonNull(prototype, "prototype");
    try {
      return switch (this) {
        case JSON -> {
          Message.Builder builder = prototype.newBuilderForType();
          PARSER.merge(new String(bytes, StandardCharsets.UTF_8), builder);
          yield (M) builder.build();
        }
        case PROTO -> (M) prototype.getParserForType().parseFrom(bytes);
      };
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new ConnectException(
          ConnectCode.INVALID_ARGUMENT,
          "cannot decode "
              + prototype.getDescriptorForType().getFullName()
              + " from "
              + name
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /**
   * The codec of a unary content type ({@code application/json}, optionally with {@code
   * charset=utf-8}, or {@code application/proto}), or {@code null}.
   */
  static @Nullable Codec fromUnaryContentType(@Nullable String contentType) {
    return fromContentType(contentType, "application/");
  }

  /** The codec of a streaming content type ({@code application/connect+json}...), or null. */
  static @Nullable Codec fromStreamContentType(@Nullable String contentType) {
    return fromContentType(contentType, "application/connect+");
  }

  private static @Nullable Codec fromContentType(@Nullable String contentType, String prefix) {
    if (contentType == null) {
      return null;
    }
    String[] parts = contentType.split(";");
    String type = parts[0].strip().toLowerCase(java.util.Locale.ROOT);
    for (int i = 1; i < parts.length; i++) {
      String parameter = parts[i].strip().toLowerCase(java.util.Locale.ROOT).replace("\"", "");
      if (!parameter.isEmpty() && !parameter.equals("charset=utf-8")) {
        return null;
      }
    }
    for (Codec codec : values()) {
      if (type.equals(prefix + codec.name)) {
        return codec;
      }
    }
    return null;
  }
}
