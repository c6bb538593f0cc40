package dev.sbx.envd.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.sun.net.httpserver.HttpServer;
import dev.sbx.connect.CallOptions;
import dev.sbx.connect.Codec;
import dev.sbx.connect.ConnectClient;
import dev.sbx.connect.ConnectCode;
import dev.sbx.connect.ConnectException;
import dev.sbx.connect.ConnectHandler;
import dev.sbx.connect.ServerStream;
import dev.sbx.envd.EnvdConfig;
import dev.sbx.envd.SandboxSettings;
import dev.sbx.envd.user.RequestUsers;
import dev.sbx.envd.user.UserDirectory;
import dev.sbx.proto.process.ListRequest;
import dev.sbx.proto.process.ListResponse;
import dev.sbx.proto.process.ProcessConfig;
import dev.sbx.proto.process.ProcessSelector;
import dev.sbx.proto.process.SendSignalRequest;
import dev.sbx.proto.process.SendSignalResponse;
import dev.sbx.proto.process.Signal;
import dev.sbx.proto.process.StartRequest;
import dev.sbx.proto.process.StartResponse;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The process service behind the real Connect server, spoken to as the E2B SDK speaks (JSON). */
class ProcessServiceWireTest {
  private HttpServer server;
  private ExecutorService executor;
  private ProcessService service;
  private ConnectClient client;

  @BeforeEach
  void setUp() throws Exception {
    assumeThat(System.getProperty("user.name")).as("envd runs as root").isEqualTo("root");
    SandboxSettings settings = new SandboxSettings(Map.of());
    service =
        new ProcessService(
            settings, new RequestUsers(UserDirectory.system(), settings), EnvdConfig.defaultExec());
    executor = Executors.newVirtualThreadPerTaskExecutor();
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/process.Process/", ConnectHandler.builder().service(service.definition()).build());
    server.setExecutor(executor);
    server.start();
    client = ConnectClient.builder(baseUri()).codec(Codec.JSON).build();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (service == null) {
      return;
    }
    for (SandboxProcess process : service.table().all()) {
      process.signal(9);
    }
    client.close();
    server.stop(0);
    executor.shutdownNow();
  }

  @Test
  void theSdksCommandsRunBodyGetsStartDataEndAsJson() throws Exception {
    String body =
        "{\"process\":{\"cmd\":\"/bin/bash\",\"args\":[\"-c\",\"echo hi\"]},\"stdin\":false}";
    HttpRequest request =
        HttpRequest.newBuilder(baseUri().resolve("/process.Process/Start"))
            .header("Content-Type", "application/connect+json")
            .header("Connect-Protocol-Version", "1")
            .header("Keepalive-Ping-Interval", "50")
            .header("Connect-Timeout-Ms", "60000")
            .POST(HttpRequest.BodyPublishers.ofByteArray(envelope(body)))
            .build();
    HttpResponse<byte[]> response;
    try (HttpClient http = HttpClient.newHttpClient()) {
      response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
    }

    assertThat(response.statusCode()).isEqualTo(200);
    List<String> messages = messages(response.body());
    assertThat(messages).hasSize(4);
    assertThat(messages.get(0)).matches("\\{\"event\":\\{\"start\":\\{\"pid\":\\d+}}}");
    assertThat(messages.get(1)).isEqualTo("{\"event\":{\"data\":{\"stdout\":\"aGkK\"}}}");
    assertThat(messages.get(2))
        .isEqualTo("{\"event\":{\"end\":{\"exited\":true,\"status\":\"exit status 0\"}}}");
    assertThat(messages.get(3)).isEqualTo("end-stream {}");
  }

  @Test
  void errorsAndLifetimeOverTheWire() throws Exception {
    assertThatThrownBy(
            () ->
                client.unary(
                    "process.Process/SendSignal",
                    SendSignalRequest.newBuilder()
                        .setProcess(ProcessSelector.newBuilder().setPid(999_999_9))
                        .setSignal(Signal.SIGNAL_SIGKILL)
                        .build(),
                    SendSignalResponse.getDefaultInstance()))
        .isInstanceOf(ConnectException.class)
        .satisfies(e -> assertThat(((ConnectException) e).code()).isEqualTo(ConnectCode.NOT_FOUND))
        .hasMessage("process with pid 9999999 not found");
    assertThatThrownBy(
            () ->
                client.unary(
                    "process.Process/List",
                    ListRequest.getDefaultInstance(),
                    ListResponse.getDefaultInstance(),
                    CallOptions.builder().header("Authorization", "Basic bm9ib2R5eDo=").build()))
        .isInstanceOf(ConnectException.class)
        .satisfies(
            e -> assertThat(((ConnectException) e).code()).isEqualTo(ConnectCode.UNAUTHENTICATED))
        .hasMessage("invalid username: 'nobodyx'");

    StartRequest sleep =
        StartRequest.newBuilder()
            .setProcess(ProcessConfig.newBuilder().setCmd("sleep").addArgs("100"))
            .setStdin(false)
            .build();
    List<StartResponse> received = new ArrayList<>();
    assertThatThrownBy(
            () -> {
              try (ServerStream<StartResponse> events =
                  client.serverStream(
                      "process.Process/Start",
                      sleep,
                      StartResponse.getDefaultInstance(),
                      CallOptions.builder().timeout(Duration.ofMillis(800)).build())) {
                for (StartResponse event : events) {
                  received.add(event);
                }
              }
            })
        .isInstanceOf(ConnectException.class)
        .satisfies(
            e ->
                assertThat(((ConnectException) e).code()).isEqualTo(ConnectCode.DEADLINE_EXCEEDED));
    assertThat(received).isNotEmpty();
    int pid = received.getFirst().getEvent().getStart().getPid();
    assertThat(pid).isPositive();
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (service.table().byPid(pid).orElseThrow().isRunning()) {
      assertThat(System.nanoTime()).as("killed at the end of its lifetime").isLessThan(deadline);
      Thread.sleep(10);
    }
  }

  private URI baseUri() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  private static byte[] envelope(String json) {
    byte[] payload = json.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0);
    out.writeBytes(ByteBuffer.allocate(4).putInt(payload.length).array());
    out.writeBytes(payload);
    return out.toByteArray();
  }

  /**
   * The enveloped messages of a response; the end-stream message as {@code "end-stream <json>"}.
   */
  private static List<String> messages(byte[] body) {
    List<String> messages = new ArrayList<>();
    ByteBuffer buffer = ByteBuffer.wrap(body);
    while (buffer.hasRemaining()) {
      int flags = buffer.get();
      byte[] payload = new byte[buffer.getInt()];
      buffer.get(payload);
      String json = new String(payload, StandardCharsets.UTF_8);
      messages.add((flags & 0x02) != 0 ? "end-stream " + json : json);
    }
    return messages;
  }
}
