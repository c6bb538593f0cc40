package dev.sbx.envd;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input against a whole envd (every route and both Connect services): each request gets the
 * error E2B's envd gives, in the protocol's own shape, and envd goes on serving.
 */
class EnvdBadInputTest {
  @TempDir Path dir;
  private EnvdFixture envd;

  @BeforeEach
  void start() {
    envd = EnvdFixture.start(dir, RpcServices::create);
  }

  @AfterEach
  void stop() {
    envd.close();
  }

  @Test
  void malformedJsonIsInvalidArgument() {
    HttpResponse<String> response = unary("/filesystem.Filesystem/Stat", "{\"path\":", b -> {});

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.body()).contains("\"code\":\"invalid_argument\"");
    assertStillServing();
  }

  @Test
  void malformedProtoIsInvalidArgument() {
    HttpResponse<String> response =
        envd.send(
            envd.request("/filesystem.Filesystem/Stat")
                .header("Content-Type", "application/proto")
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[] {(byte) 0xff, 0x7f, 1}))
                .build());

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.body()).contains("\"code\":\"invalid_argument\"");
    assertStillServing();
  }

  @Test
  void wrongContentTypeIsUnsupportedMediaType() {
    HttpResponse<String> response =
        envd.send(
            envd.request("/process.Process/List")
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                .build());

    assertThat(response.statusCode()).isEqualTo(415);
    assertStillServing();
  }

  @Test
  void oversizedEnvelopeIsResourceExhausted() {
    ByteBuffer envelope = ByteBuffer.allocate(5 + 16);
    envelope.put((byte) 0).putInt(512 << 20).put(new byte[16]);
    HttpResponse<byte[]> response =
        envd.sendForBytes(
            envd.request("/process.Process/Start")
                .header("Content-Type", "application/connect+json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(envelope.array()))
                .build());

    assertThat(response.statusCode()).isEqualTo(200);
    String endStream = new String(response.body(), StandardCharsets.UTF_8);
    assertThat(response.body()[0]).isEqualTo((byte) 0x02);
    assertThat(endStream).contains("\"code\":\"resource_exhausted\"");
    assertStillServing();
  }

  @Test
  void pathsAreResolvedNotEscapedAndBadOnesRejected() {
    HttpResponse<String> traversal =
        unary(
            "/filesystem.Filesystem/Stat", "{\"path\":\"../../../../../../etc/passwd\"}", b -> {});
    assertThat(traversal.statusCode()).isEqualTo(200);
    assertThat(traversal.body()).contains("\"path\":\"/etc/passwd\"");

    HttpResponse<String> otherHome =
        unary("/filesystem.Filesystem/Stat", "{\"path\":\"~nobody/x\"}", b -> {});
    assertThat(otherHome.statusCode()).isEqualTo(400);
    assertThat(otherHome.body()).contains("\"code\":\"invalid_argument\"");

    HttpResponse<String> nul =
        unary("/filesystem.Filesystem/Stat", "{\"path\":\"/tmp/a\\u0000b\"}", b -> {});
    assertThat(nul.statusCode()).isEqualTo(400);
    assertThat(nul.body()).contains("\"code\":\"invalid_argument\"");
    assertStillServing();
  }

  @Test
  void unknownPidIsNotFound() {
    HttpResponse<String> response =
        unary(
            "/process.Process/SendSignal",
            "{\"process\":{\"pid\":999999},\"signal\":\"SIGNAL_SIGKILL\"}",
            b -> {});

    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(response.body())
        .contains("\"code\":\"not_found\"")
        .contains("process with pid 999999 not found");
    assertStillServing();
  }

  @Test
  void unknownUserIsUnauthenticated() {
    String basic =
        "Basic "
            + Base64.getEncoder().encodeToString("nosuchuser:".getBytes(StandardCharsets.UTF_8));
    HttpResponse<String> response =
        unary(
            "/filesystem.Filesystem/ListDir",
            "{\"path\":\"/\"}",
            b -> b.header("Authorization", basic));

    assertThat(response.statusCode()).isEqualTo(401);
    assertThat(response.body())
        .contains("\"code\":\"unauthenticated\"")
        .contains("invalid username: 'nosuchuser'");
    assertStillServing();
  }

  @Test
  void missingTokenIsUnauthorizedOnceATokenIsSet() {
    envd.init("{\"accessToken\":\"secret-token\"}", null);

    HttpResponse<String> missing = unary("/process.Process/List", "{}", b -> {});
    HttpResponse<String> wrong =
        unary("/process.Process/List", "{}", b -> b.header("X-Access-Token", "not-it"));
    HttpResponse<String> right =
        unary("/process.Process/List", "{}", b -> b.header("X-Access-Token", "secret-token"));

    String expected =
        "{\"code\":401,\"message\":\"unauthorized access, please provide a valid access token or"
            + " method signing if supported\"}";
    assertThat(missing.statusCode()).isEqualTo(401);
    assertThat(missing.body()).isEqualTo(expected);
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(wrong.body()).isEqualTo(expected);
    assertThat(right.statusCode()).isEqualTo(200);
    assertThat(envd.send(envd.request("/health").build()).statusCode()).isEqualTo(204);
  }

  private HttpResponse<String> unary(
      String path, String json, Consumer<HttpRequest.Builder> customize) {
    HttpRequest.Builder request =
        envd.request(path)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json));
    customize.accept(request);
    return envd.send(request.build());
  }

  private void assertStillServing() {
    assertThat(envd.send(envd.request("/health").build()).statusCode()).isEqualTo(204);
    HttpResponse<String> stat = unary("/filesystem.Filesystem/Stat", "{\"path\":\"/\"}", b -> {});
    assertThat(stat.statusCode()).isEqualTo(200);
    assertThat(stat.body()).contains("FILE_TYPE_DIRECTORY");
  }
}
