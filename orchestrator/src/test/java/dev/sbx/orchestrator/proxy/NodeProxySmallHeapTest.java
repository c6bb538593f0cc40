package dev.sbx.orchestrator.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * 100 MiB up and down through a proxy whose JVM has a 48 MiB heap (and so 48 MiB of direct memory):
 * buffering a body would run it out of memory.
 */
class NodeProxySmallHeapTest {

  private static final long SIZE = 100L * 1024 * 1024;
  private static final String SANDBOX = "sbxtsmallheap";

  private com.sun.net.httpserver.HttpServer upstream;
  private Process proxyProcess;
  private int proxyPort;
  private HttpClient client;

  @BeforeEach
  void start() throws Exception {
    upstream =
        com.sun.net.httpserver.HttpServer.create(
            new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
    upstream.createContext(
        "/count",
        exchange -> {
          long total = 0;
          byte[] buffer = new byte[64 * 1024];
          try (InputStream in = exchange.getRequestBody()) {
            for (int n; (n = in.read(buffer)) >= 0; ) {
              total += n;
            }
          }
          byte[] body = Long.toString(total).getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    upstream.createContext(
        "/download",
        exchange -> {
          exchange.sendResponseHeaders(200, SIZE);
          byte[] buffer = new byte[64 * 1024];
          try (OutputStream out = exchange.getResponseBody()) {
            for (long left = SIZE; left > 0; left -= buffer.length) {
              out.write(buffer, 0, (int) Math.min(left, buffer.length));
            }
          }
        });
    upstream.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
    upstream.start();

    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    proxyProcess =
        new ProcessBuilder(
                List.of(
                    java,
                    "-Xmx48m",
                    "-XX:MaxDirectMemorySize=48m",
                    "-cp",
                    System.getProperty("java.class.path"),
                    NodeProxyProcess.class.getName(),
                    SANDBOX,
                    "127.0.0.1"))
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    BufferedReader out =
        new BufferedReader(
            new InputStreamReader(proxyProcess.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    assertThat(line).as("proxy process output").isNotNull().startsWith("port ");
    proxyPort = Integer.parseInt(line.substring("port ".length()));
    client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  }

  @AfterEach
  void stop() throws Exception {
    if (client != null) {
      client.close();
    }
    if (proxyProcess != null) {
      proxyProcess.getOutputStream().close();
      if (!proxyProcess.waitFor(20, TimeUnit.SECONDS)) {
        proxyProcess.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
    if (upstream != null) {
      upstream.stop(0);
    }
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxyPort + path))
        .header("E2b-Sandbox-Id", SANDBOX)
        .header("E2b-Sandbox-Port", Integer.toString(upstream.getAddress().getPort()))
        .timeout(Duration.ofMinutes(2));
  }

  @Test
  void hundredMebibytesUpAndDownThroughA48MebibyteHeap() throws Exception {
    HttpResponse<String> uploaded =
        client.send(
            request("/count")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ZeroStream(SIZE)))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(uploaded.statusCode()).isEqualTo(200);
    assertThat(uploaded.body()).isEqualTo(Long.toString(SIZE));

    HttpResponse<InputStream> downloaded =
        client.send(request("/download").GET().build(), HttpResponse.BodyHandlers.ofInputStream());
    assertThat(downloaded.statusCode()).isEqualTo(200);
    long total = 0;
    byte[] buffer = new byte[64 * 1024];
    try (InputStream in = downloaded.body()) {
      for (int n; (n = in.read(buffer)) >= 0; ) {
        total += n;
      }
    }
    assertThat(total).isEqualTo(SIZE);
    assertThat(proxyProcess.isAlive()).isTrue();
  }

  /** {@code size} zero bytes, generated as read. */
  private static final class ZeroStream extends InputStream {
    private long left;

    ZeroStream(long size) {
      this.left = size;
    }

    @Override
    public int read() {
      if (left <= 0) {
        return -1;
      }
      left--;
      return 0;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (left <= 0) {
        return -1;
      }
      int n = (int) Math.min(len, left);
      java.util.Arrays.fill(b, off, off + n, (byte) 0);
      left -= n;
      return n;
    }
  }
}
