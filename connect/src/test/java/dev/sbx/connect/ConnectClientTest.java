package dev.sbx.connect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sbx.proto.filesystem.StatRequest;
import dev.sbx.proto.filesystem.StatResponse;
import dev.sbx.proto.process.ListRequest;
import dev.sbx.proto.process.ListResponse;
import dev.sbx.proto.process.ProcessInput;
import dev.sbx.proto.process.ProcessSelector;
import dev.sbx.proto.process.StartResponse;
import dev.sbx.proto.process.StreamInputRequest;
import dev.sbx.proto.process.StreamInputResponse;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@link ConnectClient} against {@link ConnectHandler}, with both codecs. */
class ConnectClientTest {
  private static final String STAT = "filesystem.Filesystem/Stat";
  private static final String START = "process.Process/Start";

  private final TestServer server = new TestServer();
  private final List<ConnectClient> clients = new ArrayList<>();

  @AfterEach
  void close() {
    clients.forEach(ConnectClient::close);
    server.close();
  }

  private ConnectClient client(Codec codec) {
    return client(ConnectClient.builder(server.uri()).codec(codec));
  }

  private ConnectClient client(ConnectClient.Builder builder) {
    ConnectClient client = builder.build();
    clients.add(client);
    return client;
  }

  private static StatRequest stat(String path) {
    return StatRequest.newBuilder().setPath(path).build();
  }

  @ParameterizedTest
  @EnumSource(Codec.class)
  void unaryRoundTrip(Codec codec) {
    StatResponse response =
        client(codec).unary(STAT, stat("/home/user/a.txt"), StatResponse.getDefaultInstance());

    assertThat(response.getEntry().getName()).isEqualTo("a.txt");
    assertThat(response.getEntry().getSize()).isEqualTo(3);
    assertThat(
            client(codec)
                .unary(
                    "process.Process/List",
                    ListRequest.getDefaultInstance(),
                    ListResponse.getDefaultInstance())
                .getProcesses(0)
                .getPid())
        .isEqualTo(7);
  }

  @ParameterizedTest
  @EnumSource(Codec.class)
  void unaryErrorsAreConnectExceptions(Codec codec) {
    ConnectClient client = client(codec);

    assertThatThrownBy(
            () -> client.unary(STAT, stat("/missing"), StatResponse.getDefaultInstance()))
        .isInstanceOfSatisfying(
            ConnectException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ConnectCode.NOT_FOUND);
              assertThat(e.getMessage()).isEqualTo("path '/missing' does not exist");
            });
    assertThatThrownBy(() -> client.unary(STAT, stat("/boom"), StatResponse.getDefaultInstance()))
        .isInstanceOfSatisfying(
            ConnectException.class, e -> assertThat(e.code()).isEqualTo(ConnectCode.INTERNAL));
    assertThatThrownBy(
            () ->
                client.unary(
                    "filesystem.Filesystem/Nope", stat("/a"), StatResponse.getDefaultInstance()))
        .isInstanceOfSatisfying(
            ConnectException.class, e -> assertThat(e.code()).isEqualTo(ConnectCode.UNIMPLEMENTED));
  }

  @Test
  void nonConnectHttpErrorsAreMappedFromTheStatus() {
    ConnectClient client = client(Codec.JSON);

    assertThatThrownBy(() -> client.unary("proxy/x", stat("/a"), StatResponse.getDefaultInstance()))
        .isInstanceOfSatisfying(
            ConnectException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ConnectCode.UNAVAILABLE);
              assertThat(e.getMessage()).isEqualTo("HTTP 502: Bad Gateway from proxy");
            });
    assertThatThrownBy(() -> client.unary("auth/x", stat("/a"), StatResponse.getDefaultInstance()))
        .isInstanceOfSatisfying(
            ConnectException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ConnectCode.UNAUTHENTICATED);
              assertThat(e.getMessage()).isEqualTo("unauthorized access");
            });
    assertThatThrownBy(
            () ->
                client.serverStream(
                    "auth/x", stat("/a"), StartResponse.getDefaultInstance(), CallOptions.none()))
        .isInstanceOfSatisfying(
            ConnectException.class,
            e -> assertThat(e.code()).isEqualTo(ConnectCode.UNAUTHENTICATED));
  }

  @Test
  void unreachableServerIsUnavailable() {
    ConnectClient client = client(ConnectClient.builder(URI.create("http://127.0.0.1:1")));

    assertThatThrownBy(() -> client.unary(STAT, stat("/a"), StatResponse.getDefaultInstance()))
        .isInstanceOfSatisfying(
            ConnectException.class, e -> assertThat(e.code()).isEqualTo(ConnectCode.UNAVAILABLE));
  }

  @Test
  void headersAndTimeoutReachTheHandler() {
    ConnectClient client =
        client(
            ConnectClient.builder(server.uri())
                .header("X-Access-Token", "default-token")
                .header("User-Agent", "sbx-test"));

    client.unary(
        STAT,
        stat("/a"),
        StatResponse.getDefaultInstance(),
        CallOptions.builder()
            .header("X-Access-Token", "call-token")
            .header("Authorization", "Basic cm9vdDo=")
            .timeout(Duration.ofSeconds(7))
            .build());

    CallContext context = server.services.lastContext.get();
    assertThat(context.headers("x-access-token")).containsExactly("call-token");
    assertThat(context.header("authorization")).isEqualTo("Basic cm9vdDo=");
    assertThat(context.header("user-agent")).isEqualTo("sbx-test");
    assertThat(context.header("Connect-Protocol-Version")).isEqualTo("1");
    assertThat(context.timeout()).isEqualTo(Duration.ofSeconds(7));
    assertThat(context.remoteAddress().getAddress().isLoopbackAddress()).isTrue();
  }

  @Test
  void unaryDeadlineIsDeadlineExceeded() throws Exception {
    ConnectClient client =
        client(ConnectClient.builder(server.uri()).timeout(Duration.ofMillis(300)));

    assertThatThrownBy(() -> client.unary(STAT, stat("/slow"), StatResponse.getDefaultInstance()))
        .isInstanceOfSatisfying(
            ConnectException.class,
            e -> assertThat(e.code()).isEqualTo(ConnectCode.DEADLINE_EXCEEDED));
    assertThat(server.services.interrupted.get(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void gzipRequestsAndResponses() {
    ConnectClient client = client(ConnectClient.builder(server.uri()).requestGzip(true));
    String longPath = "/" + "x".repeat(5000);

    assertThat(
            client
                .unary(STAT, stat(longPath), StatResponse.getDefaultInstance())
                .getEntry()
                .getPath())
        .isEqualTo(longPath);
    try (ServerStream<StartResponse> stream =
        client.serverStream(
            START, TestServices.command("echo"), StartResponse.getDefaultInstance())) {
      assertThat(stream)
          .containsExactly(
              TestServices.startEvent(), TestServices.stdout("hi\n"), TestServices.endEvent());
    }
    assertThat(
            client.clientStream(
                "process.Process/StreamInput",
                List.of(StreamInputRequest.getDefaultInstance()),
                StreamInputResponse.getDefaultInstance()))
        .isEqualTo(StreamInputResponse.getDefaultInstance());
  }

  @ParameterizedTest
  @EnumSource(Codec.class)
  void serverStreamDeliversEveryMessageThenEnds(Codec codec) {
    try (ServerStream<StartResponse> stream =
        client(codec)
            .serverStream(
                START, TestServices.command("echo"), StartResponse.getDefaultInstance())) {
      assertThat(stream.header("X-Stream")).isEqualTo("yes");
      assertThat(stream.next()).isEqualTo(TestServices.startEvent());
      assertThat(stream.next()).isEqualTo(TestServices.stdout("hi\n"));
      assertThat(stream.next()).isEqualTo(TestServices.endEvent());
      assertThat(stream.next()).isNull();
      assertThat(stream.next()).isNull();
    }
  }

  @Test
  void serverStreamDeliversTheFirstMessageWhileTheHandlerStillRuns() {
    try (ServerStream<StartResponse> stream =
        client(Codec.JSON)
            .serverStream(
                START, TestServices.command("latch"), StartResponse.getDefaultInstance())) {
      assertThat(stream.next()).isEqualTo(TestServices.startEvent());

      server.services.release.countDown();

      assertThat(stream.next()).isEqualTo(TestServices.endEvent());
      assertThat(stream.next()).isNull();
    }
  }

  @Test
  void serverStreamErrorIsThrownAfterTheMessages() {
    try (ServerStream<StartResponse> stream =
        client(Codec.PROTO)
            .serverStream(
                START, TestServices.command("fail"), StartResponse.getDefaultInstance())) {
      assertThat(stream.next()).isEqualTo(TestServices.startEvent());
      assertThatThrownBy(stream::next)
          .isInstanceOfSatisfying(
              ConnectException.class,
              e -> {
                assertThat(e.code()).isEqualTo(ConnectCode.NOT_FOUND);
                assertThat(e.getMessage()).isEqualTo("gone");
              });
      assertThatThrownBy(stream::next).hasMessage("gone");
    }
  }

  @Test
  void serverStreamDeadline() throws Exception {
    ConnectClient client = client(Codec.JSON);
    try (ServerStream<StartResponse> stream =
        client.serverStream(
            START,
            TestServices.command("forever"),
            StartResponse.getDefaultInstance(),
            CallOptions.builder().timeout(Duration.ofMillis(300)).build())) {
      assertThat(stream.next()).isEqualTo(TestServices.startEvent());
      assertThatThrownBy(stream::next)
          .isInstanceOfSatisfying(
              ConnectException.class,
              e -> assertThat(e.code()).isEqualTo(ConnectCode.DEADLINE_EXCEEDED));
    }
    assertThat(server.services.cancelledSeen.get(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void clientDisconnectCancelsTheServerStream() throws Exception {
    ServerStream<StartResponse> stream =
        client(Codec.JSON)
            .serverStream(START, TestServices.command("spam"), StartResponse.getDefaultInstance());
    assertThat(stream.next()).isNotNull();

    stream.close();

    assertThat(server.services.sendFailure.get(20, TimeUnit.SECONDS))
        .isEqualTo(ConnectCode.CANCELED);
    assertThat(server.services.cancelledSeen.get(10, TimeUnit.SECONDS)).isTrue();
    assertThatThrownBy(stream::next)
        .isInstanceOfSatisfying(
            ConnectException.class, e -> assertThat(e.code()).isEqualTo(ConnectCode.CANCELED));
  }

  @Test
  void closeFromAnotherThreadWakesABlockedReader() throws Exception {
    ServerStream<StartResponse> stream =
        client(Codec.JSON)
            .serverStream(START, TestServices.command("latch"), StartResponse.getDefaultInstance());
    assertThat(stream.next()).isEqualTo(TestServices.startEvent());
    CompletableFuture<ConnectCode> blocked = new CompletableFuture<>();
    Thread reader =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    stream.next();
                    blocked.complete(null);
                  } catch (ConnectException e) {
                    blocked.complete(e.code());
                  }
                });

    stream.close();

    assertThat(blocked.get(10, TimeUnit.SECONDS)).isEqualTo(ConnectCode.CANCELED);
    reader.join();
    server.services.release.countDown();
  }

  @ParameterizedTest
  @EnumSource(Codec.class)
  void clientStreamSendsEveryMessage(Codec codec) {
    List<StreamInputRequest> requests = new ArrayList<>();
    requests.add(
        StreamInputRequest.newBuilder()
            .setStart(
                StreamInputRequest.StartEvent.newBuilder()
                    .setProcess(ProcessSelector.newBuilder().setPid(4)))
            .build());
    for (int i = 0; i < 50; i++) {
      requests.add(
          StreamInputRequest.newBuilder()
              .setData(
                  StreamInputRequest.DataEvent.newBuilder()
                      .setInput(
                          ProcessInput.newBuilder()
                              .setStdin(com.google.protobuf.ByteString.copyFromUtf8("line " + i))))
              .build());
    }

    StreamInputResponse response =
        client(codec)
            .clientStream(
                "process.Process/StreamInput", requests, StreamInputResponse.getDefaultInstance());

    assertThat(response).isEqualTo(StreamInputResponse.getDefaultInstance());
  }

  @Test
  void clientStreamErrorIsThrown() {
    Iterable<StreamInputRequest> requests =
        () ->
            List.of(
                    StreamInputRequest.newBuilder()
                        .setKeepalive(StreamInputRequest.KeepAlive.getDefaultInstance())
                        .build())
                .iterator();

    assertThatThrownBy(
            () ->
                client(Codec.JSON)
                    .clientStream(
                        "process.Process/StreamInput",
                        requests,
                        StreamInputResponse.getDefaultInstance()))
        .isInstanceOfSatisfying(
            ConnectException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ConnectCode.FAILED_PRECONDITION);
              assertThat(e.getMessage()).isEqualTo("no keepalive please");
            });
  }

  @Test
  void clientStreamRequestIteratorFailureIsThrownToTheCaller() {
    Iterable<StreamInputRequest> requests =
        () ->
            new Iterator<>() {
              @Override
              public boolean hasNext() {
                return true;
              }

              @Override
              public StreamInputRequest next() {
                throw new IllegalStateException("producer failed");
              }
            };

    assertThatThrownBy(
            () ->
                client(Codec.JSON)
                    .clientStream(
                        "process.Process/StreamInput",
                        requests,
                        StreamInputResponse.getDefaultInstance()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("producer failed");
  }
}
