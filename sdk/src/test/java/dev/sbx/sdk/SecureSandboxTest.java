package dev.sbx.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sbx.sdk.internal.EnvdFilesystem;
import dev.sbx.testing.EnvdLaunch;
import dev.sbx.testing.HostEnvd;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A secure sandbox: the scripted API returns an {@code envdAccessToken}, the real envd on the host
 * was given the same token through {@code /init}. The SDK must send it as {@code X-Access-Token},
 * and its signed URLs must work for a plain HTTP client that sends no header at all.
 */
class SecureSandboxTest {
  private static final String TOKEN = "secure-token-" + Long.toHexString(System.nanoTime());

  private static @Nullable HostEnvd envd;
  private static @Nullable FakeApi api;
  private static @Nullable Sandbox sandbox;
  private static @Nullable Path dir;
  private static final HttpClient PLAIN = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    envd =
        HostEnvd.start(
            EnvdLaunch.detect(), port, Path.of("target/envd-sdk-secure-" + port + ".log"));
    assertThat(envd.init("{\"accessToken\":\"" + TOKEN + "\"}", null).statusCode()).isEqualTo(204);
    api = new FakeApi();
    api.reply(
        201,
        "{\"sandboxID\":\"isecure1\",\"templateID\":\"base\",\"clientID\":\"c\","
            + "\"envdVersion\":\"0.6.4\",\"envdAccessToken\":\""
            + TOKEN
            + "\",\"domain\":\"sbx.test\"}");
    sandbox =
        Sandbox.create(
            SandboxOptions.builder()
                .environment(Map.of())
                .apiKey("e2b_00")
                .apiUrl(api.url())
                .sandboxUrl(envd.baseUrl().toString())
                .secure(true)
                .build());
    dir = Files.createTempDirectory("sbx-sdk-secure-");
  }

  @AfterAll
  static void stop() throws IOException {
    try {
      if (sandbox != null) {
        sandbox.disconnect();
      }
      if (envd != null) {
        envd.close();
      }
      if (api != null) {
        api.close();
      }
    } finally {
      if (dir != null) {
        SandboxEnvdTest.deleteTree(dir);
      }
    }
  }

  private static Sandbox sandbox() {
    if (sandbox == null) {
      throw new IllegalStateException("no sandbox");
    }
    return sandbox;
  }

  private static Path dir() {
    if (dir == null) {
      throw new IllegalStateException("no directory");
    }
    return dir;
  }

  private static String envdUrl() {
    if (envd == null) {
      throw new IllegalStateException("no envd");
    }
    return envd.baseUrl().toString();
  }

  @Test
  void theTokenIsSentToEnvd() {
    assertThat(sandbox().commands().run("echo secure").stdout()).isEqualTo("secure\n");
    sandbox().files().write(dir() + "/a.txt", "a");
    assertThat(sandbox().files().read(dir() + "/a.txt")).isEqualTo("a");
    assertThat(sandbox().files().list(dir().toString())).isNotEmpty();
    assertThat(sandbox().isRunning()).isTrue();
  }

  @Test
  void withoutTheTokenEnvdRefuses() {
    try (Sandbox noToken =
        Sandbox.create(
            SandboxOptions.builder()
                .environment(Map.of())
                .debug(true)
                .sandboxUrl(envdUrl())
                .build())) {
      assertThatThrownBy(() -> noToken.commands().run("true"))
          .isInstanceOf(AuthenticationException.class);
      assertThatThrownBy(() -> noToken.files().list(dir().toString()))
          .isInstanceOf(AuthenticationException.class);
      assertThatThrownBy(() -> noToken.files().read(dir() + "/whatever"))
          .isInstanceOf(AuthenticationException.class);
    }
  }

  @Test
  void signedUrlsWorkWithoutHeaders() throws Exception {
    String path = dir() + "/signed file.txt";
    String upload = sandbox().files().uploadUrl(path, null, null);
    assertThat(upload).startsWith(envdUrl() + "/files?path=").contains("&signature=v1_");
    String boundary = "b0undary";
    String body =
        "--"
            + boundary
            + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n"
            + "Content-Type: application/octet-stream\r\n\r\nsigned content\r\n--"
            + boundary
            + "--\r\n";
    HttpResponse<String> uploaded =
        PLAIN.send(
            HttpRequest.newBuilder(URI.create(upload))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(uploaded.statusCode()).as(uploaded.body()).isEqualTo(200);
    assertThat(Files.readString(Path.of(path))).isEqualTo("signed content");

    String download = sandbox().files().downloadUrl(path, null, Duration.ofMinutes(5));
    assertThat(download).contains("&signature_expiration=");
    HttpResponse<String> downloaded =
        PLAIN.send(
            HttpRequest.newBuilder(URI.create(download)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(downloaded.statusCode()).isEqualTo(200);
    assertThat(downloaded.body()).isEqualTo("signed content");

    // without its expiration, or tampered with, the signature no longer matches
    String readAsWrite = download.replace("&signature_expiration", "&x");
    assertThat(status(readAsWrite)).isEqualTo(401);
    assertThat(status(download.replace("signature=v1_", "signature=v1_x"))).isEqualTo(401);

    long past = Instant.now().getEpochSecond() - 10;
    String expired =
        envdUrl()
            + "/files?path="
            + java.net.URLEncoder.encode(path, StandardCharsets.UTF_8)
            + "&signature="
            + java.net.URLEncoder.encode(
                EnvdFilesystem.signature(path, "read", null, TOKEN, past), StandardCharsets.UTF_8)
            + "&signature_expiration="
            + past;
    assertThat(status(expired)).isEqualTo(401);
  }

  private static int status(String url) throws Exception {
    return PLAIN
        .send(
            HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }
}
