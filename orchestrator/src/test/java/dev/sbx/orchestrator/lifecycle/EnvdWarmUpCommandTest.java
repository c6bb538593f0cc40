package dev.sbx.orchestrator.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sbx.connect.ConnectClient;
import dev.sbx.orchestrator.fixture.TestTemplate;
import dev.sbx.proto.process.ListRequest;
import dev.sbx.proto.process.ListResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The warm-up command ({@link EnvdClient#warmUpCommand}): against envd's real dist on a loopback
 * port (no sandbox needed; it runs as this test's user), and the checks of the stream it reads.
 */
class EnvdWarmUpCommandTest {
  private static final Duration WITHIN = Duration.ofSeconds(60);

  @Test
  void runsTheCommandThroughEnvdBeforeInitAndLeavesNoProcess() throws Exception {
    Path dist = TestTemplate.envdDist();
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    ProcessBuilder builder =
        new ProcessBuilder(dist.resolve("bin/envd").toString())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD);
    builder.environment().put("ENVD_HOST", "127.0.0.1");
    builder.environment().put("ENVD_PORT", Integer.toString(port));
    Process envd = builder.start();
    try {
      awaitHealthy(port);
      long deadline = System.nanoTime() + WITHIN.toNanos();
      // twice: envd serves the warm-up on a fresh JVM and again (the claim's user may repeat it)
      EnvdClient.runCommand("127.0.0.1", port, null, EnvdClient.WARM_UP_START, deadline);
      EnvdClient.runCommand("127.0.0.1", port, null, EnvdClient.WARM_UP_START, deadline);
      // the login shell as a named user (daemon, whose home /usr/sbin has no profile files)
      EnvdClient.runCommand("127.0.0.1", port, "daemon", EnvdClient.WARM_UP_LOGIN_START, deadline);
      assertThatThrownBy(
              () ->
                  EnvdClient.runCommand(
                      "127.0.0.1",
                      port,
                      "no-such-sbx-user",
                      EnvdClient.WARM_UP_LOGIN_START,
                      deadline))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("no-such-sbx-user");
      try (ConnectClient client =
          ConnectClient.builder(URI.create("http://127.0.0.1:" + port)).timeout(WITHIN).build()) {
        ListResponse list =
            client.unary(
                "process.Process/List",
                ListRequest.getDefaultInstance(),
                ListResponse.getDefaultInstance());
        assertThat(list.getProcessesList()).as("no process a user could see").isEmpty();
      }
      // a command that fails is reported with its exit code
      assertThatThrownBy(
              () ->
                  EnvdClient.runCommand(
                      "127.0.0.1",
                      port,
                      null,
                      "{\"process\":{\"cmd\":\"/bin/sh\",\"args\":[\"-c\",\"exit 3\"]}}",
                      deadline))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("exited with 3");
      // so is a missing executable (envd-exec's 127); an end message's error: aStreamIs...()
      assertThatThrownBy(
              () ->
                  EnvdClient.runCommand(
                      "127.0.0.1",
                      port,
                      null,
                      "{\"process\":{\"cmd\":\"/no/such/sbx-binary\"}}",
                      deadline))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("exited with 127");
    } finally {
      envd.destroy();
      if (!envd.waitFor(10, TimeUnit.SECONDS)) {
        envd.destroyForcibly().waitFor();
      }
    }
  }

  @Test
  void aStreamIsCheckedToItsEnd() throws Exception {
    EnvdClient.checkStream(
        concat(
            envelope(0, "{\"event\":{\"start\":{\"pid\":7}}}"),
            envelope(0, "{\"event\":{\"end\":{\"exited\":true,\"status\":\"exit status 0\"}}}"),
            envelope(2, "{}")));
    assertThatThrownBy(() -> EnvdClient.checkStream(envelope(2, "{}")))
        .hasMessageContaining("without the process's end event");
    assertThatThrownBy(
            () ->
                EnvdClient.checkStream(
                    concat(
                        envelope(0, "{\"event\":{\"end\":{\"exitCode\":1}}}"), envelope(2, "{}"))))
        .hasMessageContaining("exited with 1");
    assertThatThrownBy(
            () ->
                EnvdClient.checkStream(
                    envelope(2, "{\"error\":{\"code\":\"unavailable\",\"message\":\"no\"}}")))
        .hasMessageContaining("unavailable");
    assertThatThrownBy(
            () -> EnvdClient.checkStream(envelope(0, "{\"event\":{\"end\":{\"exitCode\":0}}}")))
        .hasMessageContaining("without a Connect end message");
    byte[] whole = envelope(2, "{}");
    byte[] truncated = java.util.Arrays.copyOf(whole, whole.length - 1);
    assertThatThrownBy(() -> EnvdClient.checkStream(truncated)).hasMessageContaining("truncated");
    assertThatThrownBy(() -> EnvdClient.checkStream(envelope(2, "not json")))
        .hasMessageContaining("no valid JSON");
  }

  @Test
  void anErrorStatusIsReportedWithItsBody() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      String[] head = new String[1];
      Thread answering =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try (Socket socket = server.accept()) {
                      InputStream in = socket.getInputStream();
                      head[0] = readHead(in);
                      socket
                          .getOutputStream()
                          .write(
                              ("HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
                                      + "Content-Length: 9\r\nConnection: close\r\n\r\nno token.")
                                  .getBytes(StandardCharsets.US_ASCII));
                    } catch (IOException e) {
                      // the assertion below reports it
                    }
                  });
      assertThatThrownBy(
              () ->
                  EnvdClient.runCommand(
                      "127.0.0.1",
                      server.getLocalPort(),
                      "user",
                      EnvdClient.WARM_UP_START,
                      System.nanoTime() + WITHIN.toNanos()))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("401 no token.");
      answering.join();
      assertThat(head[0])
          .as("the user, as Basic auth")
          .contains("Authorization: Basic dXNlcjo=\r\n");
    }
  }

  /** Reads a request head up to its blank line and returns it. */
  private static String readHead(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    int matched = 0;
    byte[] end = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    while (matched < end.length) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.append((char) b);
      matched = b == end[matched] ? matched + 1 : (b == end[0] ? 1 : 0);
    }
    return head.toString();
  }

  private static void awaitHealthy(int port) throws InterruptedException {
    long deadline = System.nanoTime() + WITHIN.toNanos();
    while (true) {
      try (Socket socket = new Socket("127.0.0.1", port)) {
        socket
            .getOutputStream()
            .write(
                "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
        if (EnvdClient.readAnswer(socket.getInputStream()).status() == 204) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      assertThat(System.nanoTime() - deadline).as("envd healthy within %s", WITHIN).isNegative();
      Thread.sleep(20);
    }
  }

  private static byte[] envelope(int flags, String json) {
    byte[] data = json.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(flags);
    out.write(data.length >>> 24);
    out.write(data.length >>> 16);
    out.write(data.length >>> 8);
    out.write(data.length);
    out.writeBytes(data);
    return out.toByteArray();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }
}
