package dev.sbx.connect;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Timestamp;
import dev.sbx.proto.filesystem.EntryInfo;
import dev.sbx.proto.filesystem.FileType;
import dev.sbx.proto.process.SendSignalRequest;
import dev.sbx.proto.process.Signal;
import org.junit.jupiter.api.Test;

class CodecTest {
  @Test
  void jsonIsProto3CanonicalWithCamelCaseNamesAndPresence() {
    EntryInfo entry =
        EntryInfo.newBuilder()
            .setName("a.txt")
            .setType(FileType.FILE_TYPE_FILE)
            .setSize(1L << 40)
            .setModifiedTime(Timestamp.newBuilder().setSeconds(1_700_000_000L))
            .setSymlinkTarget("")
            .build();

    assertThat(new String(Codec.JSON.encode(entry), UTF_8))
        .isEqualTo(
            "{\"name\":\"a.txt\",\"type\":\"FILE_TYPE_FILE\",\"size\":\"1099511627776\","
                + "\"modifiedTime\":\"2023-11-14T22:13:20Z\",\"symlinkTarget\":\"\"}");
    assertThat(new String(Codec.JSON.encode(TestServices.command("x")), UTF_8))
        .isEqualTo("{\"process\":{\"cmd\":\"x\"},\"stdin\":false}");
  }

  @Test
  void jsonParserAcceptsSnakeCaseAndIgnoresUnknownFields() {
    EntryInfo entry =
        Codec.JSON.decode(
            "{\"symlink_target\":\"/t\",\"modifiedTime\":\"2023-11-14T22:13:20Z\",\"new\":[1]}"
                .getBytes(UTF_8),
            EntryInfo.getDefaultInstance());

    assertThat(entry.getSymlinkTarget()).isEqualTo("/t");
    assertThat(entry.getModifiedTime().getSeconds()).isEqualTo(1_700_000_000L);
    assertThat(
            Codec.JSON.decode(
                "{\"process\":{\"pid\":4242},\"signal\":\"SIGNAL_SIGKILL\"}".getBytes(UTF_8),
                SendSignalRequest.getDefaultInstance()))
        .isEqualTo(
            SendSignalRequest.newBuilder()
                .setProcess(dev.sbx.proto.process.ProcessSelector.newBuilder().setPid(4242))
                .setSignal(Signal.SIGNAL_SIGKILL)
                .build());
  }

  @Test
  void malformedInputIsInvalidArgument() {
    assertThatThrownBy(() -> Codec.JSON.decode("{".getBytes(UTF_8), EntryInfo.getDefaultInstance()))
        .isInstanceOfSatisfying(
            ConnectException.class,
            e -> assertThat(e.code()).isEqualTo(ConnectCode.INVALID_ARGUMENT));
    assertThatThrownBy(
            () -> Codec.PROTO.decode(new byte[] {(byte) 0xFF}, EntryInfo.getDefaultInstance()))
        .isInstanceOfSatisfying(
            ConnectException.class,
            e -> assertThat(e.code()).isEqualTo(ConnectCode.INVALID_ARGUMENT));
  }

  @Test
  void contentTypes() {
    assertThat(Codec.fromUnaryContentType("application/json")).isEqualTo(Codec.JSON);
    assertThat(Codec.fromUnaryContentType("Application/JSON; charset=UTF-8")).isEqualTo(Codec.JSON);
    assertThat(Codec.fromUnaryContentType("application/proto")).isEqualTo(Codec.PROTO);
    assertThat(Codec.fromUnaryContentType("application/json; charset=utf-16")).isNull();
    assertThat(Codec.fromUnaryContentType("application/connect+json")).isNull();
    assertThat(Codec.fromUnaryContentType(null)).isNull();
    assertThat(Codec.fromStreamContentType("application/connect+proto")).isEqualTo(Codec.PROTO);
    assertThat(Codec.fromStreamContentType("application/json")).isNull();
  }

  @Test
  void errorJsonEscapesAndParsesBack() {
    ConnectException error =
        new ConnectException(ConnectCode.NOT_FOUND, "path '/a \"b\"\n\\c' does not exist");

    byte[] body = ErrorJson.errorBody(error);
    ConnectException parsed =
        requireNonNull(ErrorJson.parseError(requireNonNull(ErrorJson.parseObject(body))));

    assertThat(new String(body, UTF_8))
        .isEqualTo(
            "{\"code\":\"not_found\",\"message\":\"path '/a \\\"b\\\"\\n\\\\c' does not exist\"}");
    assertThat(parsed.code()).isEqualTo(ConnectCode.NOT_FOUND);
    assertThat(parsed.getMessage()).isEqualTo(error.getMessage());
    assertThat(new String(ErrorJson.endStream(null), UTF_8)).isEqualTo("{}");
  }
}
