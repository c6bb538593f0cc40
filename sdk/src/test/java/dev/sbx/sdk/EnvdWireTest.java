package dev.sbx.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonParser;
import dev.sbx.sdk.commands.CommandOptions;
import dev.sbx.sdk.commands.CommandResult;
import dev.sbx.sdk.pty.PtyOptions;
import dev.sbx.sdk.pty.PtySize;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The exact envd requests (paths, headers, JSON bodies, envelopes) of commands, PTY and files, as
 * captured from E2B's JS SDK in docs/e2b-sdk-client.md §2.2, against a scripted server that plays
 * both the API and envd.
 */
class EnvdWireTest {
  private static final Map<String, String> STREAM =
      Map.of("Content-Type", "application/connect+json");
  private static final Map<String, String> UNARY = Map.of("Content-Type", "application/json");

  private FakeApi server;

  @BeforeEach
  void start() throws Exception {
    server = new FakeApi();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private Sandbox sandbox(String envdVersion) {
    server.reply(
        201,
        "{\"sandboxID\":\"iwire1\",\"templateID\":\"base\",\"clientID\":\"c\",\"envdVersion\":\""
            + envdVersion
            + "\"}");
    Sandbox sandbox =
        Sandbox.create(
            SandboxOptions.builder()
                .environment(Map.of())
                .apiKey("e2b_00")
                .apiUrl(server.url())
                .sandboxUrl(server.url())
                .build());
    return sandbox;
  }

  private FakeApi.Request envdRequest(int index) {
    return server.requests().get(index + 1); // request 0 is the create
  }

  private static byte[] envelopes(String... jsonThenEnd) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < jsonThenEnd.length; i++) {
      byte[] payload = jsonThenEnd[i].getBytes(StandardCharsets.UTF_8);
      out.write(i == jsonThenEnd.length - 1 ? 2 : 0);
      out.writeBytes(ByteBuffer.allocate(4).putInt(payload.length).array());
      out.writeBytes(payload);
    }
    return out.toByteArray();
  }

  /** The JSON of the one envelope of a streaming request. */
  private static String envelopeJson(byte[] body) {
    assertThat(body[0]).isZero();
    int length = ByteBuffer.wrap(body, 1, 4).getInt();
    assertThat(body).hasSize(5 + length);
    return new String(Arrays.copyOfRange(body, 5, body.length), StandardCharsets.UTF_8);
  }

  private static void assertJson(String actual, String expected) {
    assertThat(JsonParser.parseString(actual)).isEqualTo(JsonParser.parseString(expected));
  }

  @Test
  void runSendsTheCapturedStartRequest() {
    Sandbox sandbox = sandbox("0.6.4");
    server.reply(
        200,
        STREAM,
        envelopes(
            "{\"event\":{\"start\":{\"pid\":4242}}}",
            "{\"event\":{\"keepalive\":{}}}",
            "{\"event\":{\"data\":{\"stdout\":\"aGkK\"}}}",
            "{\"event\":{\"end\":{\"exited\":true,\"status\":\"exit status 0\"}}}",
            "{}"));
    CommandResult result = sandbox.commands().run("echo hi");
    assertThat(result).isEqualTo(new CommandResult(0, "hi\n", "", null));

    FakeApi.Request start = envdRequest(0);
    assertThat(start.method()).isEqualTo("POST");
    assertThat(start.pathAndQuery()).isEqualTo("/process.Process/Start");
    assertThat(start.header("Content-Type")).isEqualTo("application/connect+json");
    assertThat(start.header("Connect-Protocol-Version")).isEqualTo("1");
    assertThat(start.header("Keepalive-Ping-Interval")).isEqualTo("50");
    assertThat(start.header("Connect-Timeout-Ms")).isEqualTo("60000");
    assertThat(start.header("E2b-Sandbox-Id")).isEqualTo("iwire1");
    assertThat(start.header("E2b-Sandbox-Port")).isEqualTo("49983");
    assertThat(start.header("Authorization")).isEqualTo("<absent>");
    assertThat(start.header("X-Access-Token")).isEqualTo("<absent>");
    assertThat(start.header("X-API-KEY")).isEqualTo("<absent>");
    assertJson(
        envelopeJson(start.bytes()),
        "{\"process\":{\"cmd\":\"/bin/bash\",\"args\":[\"-l\",\"-c\",\"echo hi\"]},\"stdin\":false}");
  }

  @Test
  void runWithUserCwdEnvsAndTimeout() {
    Sandbox sandbox = sandbox("0.6.4");
    server.reply(
        200,
        STREAM,
        envelopes(
            "{\"event\":{\"start\":{\"pid\":1}}}",
            "{\"event\":{\"end\":{\"exitCode\":2,\"status\":\"exit status 2\",\"error\":\"boom\"}}}",
            "{}"));
    assertThatThrownBy(
            () ->
                sandbox
                    .commands()
                    .run(
                        "pwd",
                        CommandOptions.builder()
                            .user("root")
                            .cwd("/tmp")
                            .env("FOO", "bar")
                            .timeout(Duration.ofSeconds(10))
                            .build()))
        .isInstanceOf(dev.sbx.sdk.commands.CommandExitException.class)
        .hasMessageContaining("boom");
    FakeApi.Request start = envdRequest(0);
    assertThat(start.header("Authorization")).isEqualTo("Basic cm9vdDo=");
    assertThat(start.header("Connect-Timeout-Ms")).isEqualTo("10000");
    assertJson(
        envelopeJson(start.bytes()),
        """
        {"process":{"cmd":"/bin/bash","args":["-l","-c","pwd"],"envs":{"FOO":"bar"},"cwd":"/tmp"},
         "stdin":false}""");
  }

  @Test
  void streamErrorsAndMissingStartAreReported() {
    Sandbox sandbox = sandbox("0.6.4");
    server.reply(200, STREAM, envelopes("{\"event\":{\"keepalive\":{}}}", "{}"));
    assertThatThrownBy(() -> sandbox.commands().run("x"))
        .isInstanceOf(SandboxException.class)
        .hasMessageContaining("Expected start event");
    server.reply(
        200,
        STREAM,
        envelopes(
            "{\"event\":{\"start\":{\"pid\":1}}}",
            "{\"error\":{\"code\":\"deadline_exceeded\",\"message\":\"deadline exceeded\"}}"));
    assertThatThrownBy(() -> sandbox.commands().run("x")).isInstanceOf(TimeoutException.class);
    server.reply(200, STREAM, envelopes("{\"event\":{\"start\":{\"pid\":1}}}", "{}"));
    assertThatThrownBy(() -> sandbox.commands().run("x"))
        .isInstanceOf(SandboxException.class)
        .hasMessageContaining("without an end event");
    server.reply(
        400, UNARY, "{\"code\":\"invalid_argument\",\"message\":\"cwd '/x' does not exist\"}");
    assertThatThrownBy(() -> sandbox.commands().run("x"))
        .isInstanceOf(InvalidArgumentException.class)
        .hasMessage("cwd '/x' does not exist");
  }

  @Test
  void ptyCreateWithoutTimeout() {
    Sandbox sandbox = sandbox("0.6.4");
    server.reply(200, STREAM, envelopes("{\"event\":{\"start\":{\"pid\":7}}}", "{}"));
    sandbox.pty().create(PtyOptions.builder(80, 24).timeout(Duration.ZERO).build());
    FakeApi.Request start = envdRequest(0);
    assertThat(start.header("Connect-Timeout-Ms")).isEqualTo("<absent>");
    assertJson(
        envelopeJson(start.bytes()),
        """
        {"process":{"cmd":"/bin/bash","args":["-i","-l"],
          "envs":{"TERM":"xterm-256color","LANG":"C.UTF-8","LC_ALL":"C.UTF-8"}},
         "pty":{"size":{"cols":80,"rows":24}}}""");
  }

  @Test
  void unaryBodies() {
    Sandbox sandbox = sandbox("0.6.4");
    for (int i = 0; i < 6; i++) {
      server.reply(200, UNARY, "{}");
    }
    sandbox.files().list("/home/user");
    sandbox.commands().list();
    sandbox.commands().kill(4242);
    sandbox.commands().sendStdin(4242, "abc");
    sandbox.pty().sendInput(4242, "ls\n");
    sandbox.pty().resize(4242, new PtySize(100, 30));
    List<String> expected =
        List.of(
            "/filesystem.Filesystem/ListDir|{\"path\":\"/home/user\",\"depth\":1}",
            "/process.Process/List|{}",
            "/process.Process/SendSignal|{\"process\":{\"pid\":4242},\"signal\":\"SIGNAL_SIGKILL\"}",
            "/process.Process/SendInput|{\"process\":{\"pid\":4242},\"input\":{\"stdin\":\"YWJj\"}}",
            "/process.Process/SendInput|{\"process\":{\"pid\":4242},\"input\":{\"pty\":\"bHMK\"}}",
            "/process.Process/Update|{\"process\":{\"pid\":4242},\"pty\":{\"size\":{\"cols\":100,\"rows\":30}}}");
    for (int i = 0; i < expected.size(); i++) {
      String[] pathAndBody = expected.get(i).split("\\|", 2);
      FakeApi.Request request = envdRequest(i);
      assertThat(request.pathAndQuery()).isEqualTo(pathAndBody[0]);
      assertThat(request.header("Content-Type")).isEqualTo("application/json");
      assertThat(request.header("Connect-Protocol-Version")).isEqualTo("1");
      assertJson(request.body(), pathAndBody[1]);
    }
  }

  @Test
  void connectErrorsMapToResults() {
    Sandbox sandbox = sandbox("0.6.4");
    server.reply(404, UNARY, "{\"code\":\"not_found\",\"message\":\"no such file\"}");
    assertThat(sandbox.files().exists("/nope")).isFalse();
    server.reply(409, UNARY, "{\"code\":\"already_exists\",\"message\":\"exists\"}");
    assertThat(sandbox.files().makeDir("/d")).isFalse();
    server.reply(
        404, UNARY, "{\"code\":\"not_found\",\"message\":\"process with pid 1 not found\"}");
    assertThat(sandbox.commands().kill(1)).isFalse();
    server.reply(429, UNARY, "{\"code\":\"resource_exhausted\",\"message\":\"slow\"}");
    assertThatThrownBy(() -> sandbox.files().getInfo("/x")).isInstanceOf(RateLimitException.class);
    server.reply(500, UNARY, "{\"code\":\"internal\",\"message\":\"broken\"}");
    assertThatThrownBy(() -> sandbox.files().getInfo("/x"))
        .isExactlyInstanceOf(SandboxException.class)
        .hasMessage("internal: broken");
    server.reply(401, UNARY, "{\"code\":401,\"message\":\"unauthorized access\"}");
    assertThatThrownBy(() -> sandbox.files().getInfo("/x"))
        .isInstanceOf(AuthenticationException.class);
  }

  @Test
  void filesRequests() {
    Sandbox sandbox = sandbox("0.6.4");
    server.reply(200, "[{\"name\":\"a.txt\",\"type\":\"file\",\"path\":\"/home/user/a.txt\"}]");
    sandbox.files().write("a.txt", "abc");
    FakeApi.Request single = envdRequest(0);
    assertThat(single.method()).isEqualTo("POST");
    assertThat(single.pathAndQuery()).isEqualTo("/files?path=a.txt");
    assertThat(single.header("Content-Type")).startsWith("multipart/form-data; boundary=");
    assertThat(single.header("E2b-Sandbox-Id")).isEqualTo("iwire1");
    assertThat(single.body())
        .contains(
            "Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\nabc\r\n");

    server.reply(
        200,
        "[{\"name\":\"a\",\"type\":\"file\",\"path\":\"/a\"},{\"name\":\"b\",\"type\":\"file\",\"path\":\"/b\"}]");
    sandbox
        .files()
        .write(
            List.of(
                dev.sbx.sdk.files.WriteEntry.of("/a", "1"),
                dev.sbx.sdk.files.WriteEntry.of("/b", "2")));
    FakeApi.Request multi = envdRequest(1);
    assertThat(multi.pathAndQuery()).isEqualTo("/files");
    assertThat(multi.body()).contains("filename=\"/a\"").contains("filename=\"/b\"");

    server.reply(200, Map.of("Content-Type", "application/octet-stream"), "content");
    assertThat(sandbox.files().read("/home/user/a b.txt", "root")).isEqualTo("content");
    FakeApi.Request read = envdRequest(2);
    assertThat(read.method()).isEqualTo("GET");
    assertThat(read.pathAndQuery())
        .isEqualTo("/files?path=%2Fhome%2Fuser%2Fa%20b.txt&username=root");

    server.reply(200, "[{\"name\":\"s\",\"type\":\"file\",\"path\":\"/s\"}]");
    sandbox.files().write("/s", new java.io.ByteArrayInputStream(new byte[] {1, 2}));
    FakeApi.Request stream = envdRequest(3);
    assertThat(stream.pathAndQuery()).isEqualTo("/files?path=%2Fs");
    assertThat(stream.header("Content-Type")).isEqualTo("application/octet-stream");
    assertThat(stream.bytes()).containsExactly(1, 2);

    server.reply(507, "{\"code\":507,\"message\":\"no space left on device\"}");
    assertThatThrownBy(() -> sandbox.files().write("/big", "x"))
        .isInstanceOf(NotEnoughSpaceException.class);
    server.reply(502, "{\"code\":502,\"message\":\"sandbox gone\"}");
    assertThatThrownBy(() -> sandbox.files().read("/x")).isInstanceOf(TimeoutException.class);
    server.reply(404, "{\"code\":404,\"message\":\"path '/x' does not exist\"}");
    assertThatThrownBy(() -> sandbox.files().read("/x"))
        .isInstanceOf(NotFoundException.class)
        .hasMessage("path '/x' does not exist");
  }

  @Test
  void oldEnvdGetsTheDefaultUserAndNoStdinField() {
    Sandbox sandbox = sandbox("0.2.0");
    server.reply(
        200,
        STREAM,
        envelopes("{\"event\":{\"start\":{\"pid\":1}}}", "{\"event\":{\"end\":{}}}", "{}"));
    sandbox.commands().run("id");
    FakeApi.Request start = envdRequest(0);
    assertThat(start.header("Authorization")).isEqualTo("Basic dXNlcjo=");
    assertJson(
        envelopeJson(start.bytes()),
        "{\"process\":{\"cmd\":\"/bin/bash\",\"args\":[\"-l\",\"-c\",\"id\"]}}");
    server.reply(200, Map.of("Content-Type", "application/octet-stream"), "x");
    sandbox.files().read("/x");
    assertThat(envdRequest(1).pathAndQuery()).isEqualTo("/files?path=%2Fx&username=user");
    server.reply(200, "[{\"name\":\"s\",\"type\":\"file\",\"path\":\"/s\"}]");
    sandbox.files().write("/s", new java.io.ByteArrayInputStream(new byte[] {1}));
    assertThat(envdRequest(2).header("Content-Type")).startsWith("multipart/form-data");
    assertThatThrownBy(() -> sandbox.commands().closeStdin(1))
        .isInstanceOf(SandboxException.class)
        .hasMessageContaining("needs envd 0.5.2");
    assertThat(server.requests()).hasSize(4); // refused without a request
  }

  @Test
  void signedUrlsOfASecureSandbox() {
    server.reply(
        201,
        "{\"sandboxID\":\"isec\",\"templateID\":\"base\",\"clientID\":\"c\",\"envdVersion\":\"0.6.4\","
            + "\"envdAccessToken\":\"tok\",\"domain\":\"sbx.test\"}");
    Sandbox secure =
        Sandbox.create(
            SandboxOptions.builder()
                .environment(Map.of())
                .apiKey("e2b_00")
                .apiUrl(server.url())
                .build());
    // sha256("/home/user/a.txt:read::tok"), base64 without padding
    String expected =
        "v1_"
            + java.util.Base64.getEncoder()
                .withoutPadding()
                .encodeToString(sha256("/home/user/a.txt:read::tok"));
    assertThat(secure.downloadUrl("/home/user/a.txt", null, null))
        .isEqualTo(
            "https://49983-isec.sbx.test/files?path=%2Fhome%2Fuser%2Fa.txt&signature="
                + java.net.URLEncoder.encode(expected, StandardCharsets.UTF_8));
    assertThat(secure.uploadUrl("/home/user/a.txt", "root", null))
        .startsWith(
            "https://49983-isec.sbx.test/files?path=%2Fhome%2Fuser%2Fa.txt&username=root&signature=v1_");
    secure.disconnect();
  }

  private static byte[] sha256(String text) {
    try {
      return java.security.MessageDigest.getInstance("SHA-256")
          .digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
