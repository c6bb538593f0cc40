package dev.sbx.envd.filesystem;

import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.sbx.connect.CallOptions;
import dev.sbx.connect.ConnectClient;
import dev.sbx.connect.ConnectCode;
import dev.sbx.connect.ConnectHandler;
import dev.sbx.connect.ServerStream;
import dev.sbx.envd.ConnectAssertions;
import dev.sbx.envd.FakeCallContext;
import dev.sbx.envd.SandboxSettings;
import dev.sbx.envd.user.RequestUsers;
import dev.sbx.envd.user.UserDirectory;
import dev.sbx.proto.filesystem.EventType;
import dev.sbx.proto.filesystem.StatRequest;
import dev.sbx.proto.filesystem.StatResponse;
import dev.sbx.proto.filesystem.WatchDirRequest;
import dev.sbx.proto.filesystem.WatchDirResponse;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The service behind the real Connect server, called as the E2B SDK calls it (Connect + JSON). */
class FilesystemOverConnectTest {
  @TempDir Path dir;

  private final SandboxSettings settings = new SandboxSettings(Map.of());
  private final FilesystemService service =
      new FilesystemService(settings, new RequestUsers(UserDirectory.system(), settings));
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private HttpServer server;
  private URI base;

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/filesystem.Filesystem/", ConnectHandler.create(List.of(service.definition())));
    server.setExecutor(executor);
    server.start();
    base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  @AfterEach
  void stop() {
    server.stop(0);
    executor.shutdownNow();
    service.close();
  }

  @Test
  void statAnswersInProtoJsonAsTheSdkExpects() throws Exception {
    Path file = Files.writeString(dir.resolve("a.txt"), "abc");
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(base.resolve("/filesystem.Filesystem/Stat"))
                    .header("Content-Type", "application/json")
                    .header("Connect-Protocol-Version", "1")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"path\":\"" + file + "\"}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body())
        .contains("\"name\":\"a.txt\"")
        .contains("\"type\":\"FILE_TYPE_FILE\"")
        .contains("\"size\":\"3\"")
        .contains("\"permissions\":\"-rw-r--r--\"")
        .contains("\"owner\":\"root\"")
        .contains("\"modifiedTime\":\"");
  }

  @Test
  void missingPathIsA404NotFound() throws Exception {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(base.resolve("/filesystem.Filesystem/Stat"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"path\":\"" + dir + "/nope\"}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(response.body()).contains("\"code\":\"not_found\"").contains("does not exist");
  }

  @Test
  void watchDirStreamsUntilTheClientCloses() throws Exception {
    try (ConnectClient client = ConnectClient.builder(base).build()) {
      StatResponse stat =
          client.unary(
              "filesystem.Filesystem/Stat",
              StatRequest.newBuilder().setPath(dir.toString()).build(),
              StatResponse.getDefaultInstance());
      assertThat(stat.getEntry().getPath()).isEqualTo(dir.toString());

      ServerStream<WatchDirResponse> stream =
          client.serverStream(
              "filesystem.Filesystem/WatchDir",
              WatchDirRequest.newBuilder().setPath(dir.toString()).setRecursive(true).build(),
              WatchDirResponse.getDefaultInstance(),
              CallOptions.builder()
                  .header("Keepalive-Ping-Interval", "1")
                  .timeout(Duration.ofSeconds(60))
                  .build());
      try (stream) {
        assertThat(requireNonNull(stream.next()).hasStart()).isTrue();
        Files.writeString(dir.resolve("over-the-wire.txt"), "x");
        WatchDirResponse event = requireNonNull(stream.next());
        assertThat(event.getFilesystem().getName()).isEqualTo("over-the-wire.txt");
        assertThat(event.getFilesystem().getType()).isEqualTo(EventType.EVENT_TYPE_CREATE);
      }
    }
    // The JDK HttpServer tells a handler that its client left only when a write fails: the
    // handler notices at the next keepalive (here after 1 s) and ends its watch.
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!WatchTest.watchThreads().isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(WatchTest.watchThreads()).isEmpty();
  }

  @Test
  void unknownUserIsUnauthenticated() {
    try (ConnectClient client =
        ConnectClient.builder(base)
            .header("Authorization", FakeCallContext.basic("no-such-user-xyz"))
            .build()) {
      ConnectAssertions.assertConnectError(
          () ->
              client.unary(
                  "filesystem.Filesystem/Stat",
                  StatRequest.newBuilder().setPath("/").build(),
                  StatResponse.getDefaultInstance()),
          ConnectCode.UNAUTHENTICATED,
          "invalid username: 'no-such-user-xyz'");
    }
  }
}
