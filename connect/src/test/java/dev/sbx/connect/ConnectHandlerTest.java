package dev.sbx.connect;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sbx.proto.filesystem.StatRequest;
import dev.sbx.proto.filesystem.StatResponse;
import dev.sbx.proto.process.StartResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The server on the wire: raw HTTP requests, exact response bytes. */
class ConnectHandlerTest {
  private static final String STAT = "/filesystem.Filesystem/Stat";
  private static final String START = "/process.Process/Start";
  private static final String STREAM_INPUT = "/process.Process/StreamInput";

  private final TestServer server = new TestServer(64 * 1024);
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @AfterEach
  void serverStillServesAndStops() throws Exception {
    try {
      HttpResponse<byte[]> response =
          post(STAT, "application/json", "{\"path\":\"/ok.txt\"}".getBytes(UTF_8));
      assertThat(response.statusCode()).isEqualTo(200);
    } finally {
      http.close();
      server.close();
    }
  }

  // ---- unary

  @Test
  void unaryJsonRoundTripUsesCanonicalJson() throws Exception {
    HttpResponse<byte[]> response =
        post(
            STAT,
            "application/json",
            "{\"path\":\"/home/user/a.txt\"}".getBytes(UTF_8),
            "Connect-Protocol-Version",
            "1");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(new String(response.body(), UTF_8))
        .isEqualTo(
            "{\"entry\":{\"name\":\"a.txt\",\"type\":\"FILE_TYPE_FILE\","
                + "\"path\":\"/home/user/a.txt\",\"size\":\"3\"}}");
  }

  @Test
  void unaryJsonAcceptsCharsetSnakeCaseAndUnknownFields() throws Exception {
    HttpResponse<byte[]> response =
        post(
            STAT,
            "application/json; charset=utf-8",
            "{\"path\":\"/a\",\"some_future_field\":{\"x\":1}}".getBytes(UTF_8));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(new String(response.body(), UTF_8)).contains("\"path\":\"/a\"");
  }

  @Test
  void unaryBinaryRoundTrip() throws Exception {
    HttpResponse<byte[]> response =
        post(
            STAT,
            "application/proto",
            StatRequest.newBuilder().setPath("/b.bin").build().toByteArray());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/proto");
    assertThat(StatResponse.parseFrom(response.body()).getEntry().getName()).isEqualTo("b.bin");
  }

  @Test
  void unaryConnectErrorBecomesStatusAndJsonBody() throws Exception {
    HttpResponse<byte[]> response =
        post(STAT, "application/json", "{\"path\":\"/missing\"}".getBytes(UTF_8));

    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(new String(response.body(), UTF_8))
        .isEqualTo("{\"code\":\"not_found\",\"message\":\"path '/missing' does not exist\"}");
  }

  @Test
  void unaryErrorIsJsonEvenForTheProtoCodec() throws Exception {
    HttpResponse<byte[]> response =
        post(
            STAT,
            "application/proto",
            StatRequest.newBuilder().setPath("/missing").build().toByteArray());

    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(new String(response.body(), UTF_8)).startsWith("{\"code\":\"not_found\"");
  }

  @Test
  void unexpectedExceptionIsInternalWithoutDetails() throws Exception {
    HttpResponse<byte[]> response =
        post(STAT, "application/json", "{\"path\":\"/boom\"}".getBytes(UTF_8));

    assertThat(response.statusCode()).isEqualTo(500);
    assertThat(new String(response.body(), UTF_8))
        .isEqualTo("{\"code\":\"internal\",\"message\":\"internal error\"}");
  }

  @Test
  void unaryResponseHeadersFromTheHandler() throws Exception {
    HttpResponse<byte[]> response =
        post(STAT, "application/json", "{\"path\":\"/header\"}".getBytes(UTF_8));

    assertThat(response.headers().firstValue("X-Test")).hasValue("yes");
  }

  @Test
  void unknownMethodAndServiceAreUnimplemented() throws Exception {
    for (String path :
        List.of(
            "/process.Process/Nope",
            "/filesystem.Filesystem/Stat/extra",
            "/filesystem.Filesystem/")) {
      HttpResponse<byte[]> response = post(path, "application/json", "{}".getBytes(UTF_8));

      assertThat(response.statusCode()).as(path).isEqualTo(404);
      assertThat(new String(response.body(), UTF_8))
          .as(path)
          .startsWith("{\"code\":\"unimplemented\",\"message\":\"unknown procedure ");
    }
  }

  @Test
  void getIsMethodNotAllowed() throws Exception {
    HttpResponse<byte[]> response =
        http.send(
            HttpRequest.newBuilder(server.uri(STAT)).GET().build(),
            HttpResponse.BodyHandlers.ofByteArray());

    assertThat(response.statusCode()).isEqualTo(405);
    assertThat(response.headers().firstValue("Allow")).hasValue("POST");
  }

  @Test
  void wrongContentTypesAreUnsupportedMediaType() throws Exception {
    assertThat(post(STAT, "text/plain", "{}".getBytes(UTF_8)).statusCode()).isEqualTo(415);
    assertThat(post(STAT, "application/json; charset=latin1", "{}".getBytes(UTF_8)).statusCode())
        .isEqualTo(415);
    assertThat(post(STAT, "application/connect+json", envelope(0, "{}")).statusCode())
        .isEqualTo(415);
    assertThat(post(START, "application/json", "{}".getBytes(UTF_8)).statusCode()).isEqualTo(415);
    assertThat(post(START, "application/grpc", envelope(0, "{}")).statusCode()).isEqualTo(415);
  }

  @Test
  void malformedJsonIsInvalidArgument() throws Exception {
    for (String body : List.of("{\"path\":", "[1,2]", "{\"path\":{}}", "not json")) {
      HttpResponse<byte[]> response = post(STAT, "application/json", body.getBytes(UTF_8));

      assertThat(response.statusCode()).as(body).isEqualTo(400);
      assertThat(new String(response.body(), UTF_8))
          .as(body)
          .startsWith("{\"code\":\"invalid_argument\"");
    }
  }

  @Test
  void malformedProtoIsInvalidArgument() throws Exception {
    HttpResponse<byte[]> response = post(STAT, "application/proto", new byte[] {0x0A, 0x7F, 0x01});

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(new String(response.body(), UTF_8)).startsWith("{\"code\":\"invalid_argument\"");
  }

  @Test
  void oversizedUnaryRequestIsResourceExhausted() throws Exception {
    String json = "{\"path\":\"" + "a".repeat(70 * 1024) + "\"}";

    HttpResponse<byte[]> response = post(STAT, "application/json", json.getBytes(UTF_8));

    assertThat(response.statusCode()).isEqualTo(429);
    assertThat(new String(response.body(), UTF_8)).startsWith("{\"code\":\"resource_exhausted\"");
  }

  @Test
  void gzipBombIsResourceExhausted() throws Exception {
    String json = "{\"path\":\"" + "a".repeat(1024 * 1024) + "\"}";

    HttpResponse<byte[]> response =
        post(
            STAT,
            "application/json",
            Gzip.compress(json.getBytes(UTF_8)),
            "Content-Encoding",
            "gzip");

    assertThat(response.statusCode()).isEqualTo(429);
  }

  @Test
  void gzipRequestIsAccepted() throws Exception {
    HttpResponse<byte[]> response =
        post(
            STAT,
            "application/json",
            Gzip.compress("{\"path\":\"/z.gz\"}".getBytes(UTF_8)),
            "Content-Encoding",
            "gzip");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(new String(response.body(), UTF_8)).contains("\"name\":\"z.gz\"");
  }

  @Test
  void bigResponsesAreGzippedForClientsThatAcceptIt() throws Exception {
    String path = "/" + "d".repeat(2000);
    byte[] request = ("{\"path\":\"" + path + "\"}").getBytes(UTF_8);

    HttpResponse<byte[]> gzipped =
        post(STAT, "application/json", request, "Accept-Encoding", "gzip");
    HttpResponse<byte[]> plain = post(STAT, "application/json", request);

    assertThat(gzipped.headers().firstValue("Content-Encoding")).hasValue("gzip");
    byte[] inflated =
        new GZIPInputStream(new java.io.ByteArrayInputStream(gzipped.body())).readAllBytes();
    assertThat(inflated).isEqualTo(plain.body());
    assertThat(plain.headers().firstValue("Content-Encoding")).isEmpty();
  }

  @Test
  void unknownRequestCompressionIsUnimplemented() throws Exception {
    HttpResponse<byte[]> response =
        post(STAT, "application/json", "{}".getBytes(UTF_8), "Content-Encoding", "br");

    assertThat(response.statusCode()).isEqualTo(501);
    assertThat(new String(response.body(), UTF_8)).startsWith("{\"code\":\"unimplemented\"");
  }

  @Test
  void unaryTimeoutHeaderReachesTheHandler() throws Exception {
    post(
        STAT,
        "application/json",
        "{\"path\":\"/t\"}".getBytes(UTF_8),
        "Connect-Timeout-Ms",
        "5000");

    assertThat(server.services.lastContext.get().timeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(server.services.lastContext.get().procedure())
        .isEqualTo("filesystem.Filesystem/Stat");
  }

  @Test
  void invalidTimeoutIsInvalidArgument() throws Exception {
    for (String timeout : List.of("abc", "12345678901", "-5", "1.5", "")) {
      HttpResponse<byte[]> response =
          post(STAT, "application/json", "{}".getBytes(UTF_8), "Connect-Timeout-Ms", timeout);

      assertThat(response.statusCode()).as(timeout).isEqualTo(400);
      assertThat(new String(response.body(), UTF_8))
          .as(timeout)
          .startsWith("{\"code\":\"invalid_argument\"");
    }
  }

  @Test
  void unsupportedProtocolVersionIsInvalidArgument() throws Exception {
    HttpResponse<byte[]> response =
        post(STAT, "application/json", "{}".getBytes(UTF_8), "Connect-Protocol-Version", "2");

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(new String(response.body(), UTF_8)).startsWith("{\"code\":\"invalid_argument\"");
  }

  @Test
  void unaryDeadlineAnswersDeadlineExceededAndInterruptsTheHandler() throws Exception {
    long started = System.nanoTime();
    HttpResponse<byte[]> response =
        post(
            STAT,
            "application/json",
            "{\"path\":\"/slow\"}".getBytes(UTF_8),
            "Connect-Timeout-Ms",
            "200");

    assertThat(response.statusCode()).isEqualTo(504);
    assertThat(new String(response.body(), UTF_8))
        .isEqualTo("{\"code\":\"deadline_exceeded\",\"message\":\"deadline exceeded\"}");
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
    assertThat(server.services.interrupted.get(10, TimeUnit.SECONDS)).isTrue();
  }

  // ---- server streaming

  @Test
  void serverStreamWireBytes() throws Exception {
    HttpResponse<byte[]> response =
        post(
            START,
            "application/connect+json",
            envelope(0, "{\"process\":{\"cmd\":\"echo\"},\"stdin\":false}"));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/connect+json");
    assertThat(response.headers().firstValue("X-Stream")).hasValue("yes");
    assertThat(response.body())
        .isEqualTo(
            concat(
                envelope(0, "{\"event\":{\"start\":{\"pid\":42}}}"),
                envelope(0, "{\"event\":{\"data\":{\"stdout\":\"aGkK\"}}}"),
                envelope(0, "{\"event\":{\"end\":{\"exited\":true,\"status\":\"exit status 0\"}}}"),
                envelope(2, "{}")));
  }

  @Test
  void serverStreamProtoCodecKeepsJsonEndStream() throws Exception {
    HttpResponse<byte[]> response =
        post(
            START,
            "application/connect+proto",
            envelope(0, TestServices.command("echo").toByteArray()));

    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/connect+proto");
    List<Envelope> frames = frames(response.body());
    assertThat(frames).hasSize(4);
    assertThat(StartResponse.parseFrom(frames.get(0).payload()))
        .isEqualTo(TestServices.startEvent());
    assertThat(frames.get(3).flags()).isEqualTo(2);
    assertThat(new String(frames.get(3).payload(), UTF_8)).isEqualTo("{}");
  }

  @Test
  void serverStreamErrorGoesIntoTheEndStreamMessage() throws Exception {
    HttpResponse<byte[]> response =
        post(START, "application/connect+json", envelope(0, "{\"process\":{\"cmd\":\"fail\"}}"));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body())
        .isEqualTo(
            concat(
                envelope(0, "{\"event\":{\"start\":{\"pid\":42}}}"),
                envelope(2, "{\"error\":{\"code\":\"not_found\",\"message\":\"gone\"}}")));
  }

  @Test
  void serverStreamCrashIsInternal() throws Exception {
    HttpResponse<byte[]> response =
        post(START, "application/connect+json", envelope(0, "{\"process\":{\"cmd\":\"crash\"}}"));

    assertThat(response.body())
        .isEqualTo(
            envelope(2, "{\"error\":{\"code\":\"internal\",\"message\":\"internal error\"}}"));
  }

  @Test
  void gzippedRequestEnvelopeIsAccepted() throws Exception {
    byte[] compressed = Gzip.compress("{\"process\":{\"cmd\":\"echo\"}}".getBytes(UTF_8));

    HttpResponse<byte[]> response =
        post(
            START,
            "application/connect+json",
            new Envelope(Envelope.COMPRESSED, compressed).toBytes(),
            "Connect-Content-Encoding",
            "gzip");

    assertThat(frames(response.body())).hasSize(4);
    assertThat(new String(frames(response.body()).get(3).payload(), UTF_8)).isEqualTo("{}");
  }

  @Test
  void malformedEnvelopesEndTheStreamWithAnError() throws Exception {
    byte[] truncatedPayload = new byte[] {0, 0, 0, 0, 100, '{', '}'};
    byte[] truncatedPrefix = new byte[] {0, 0, 0};
    byte[] badFlags = envelope(0x04, "{}");
    byte[] compressedWithoutEncoding = envelope(Envelope.COMPRESSED, "{}");
    byte[] twoMessages = concat(envelope(0, "{}"), envelope(0, "{}"));
    byte[] empty = new byte[0];
    byte[] badJson = envelope(0, "{\"process\":");
    for (byte[] body :
        List.of(
            truncatedPayload,
            truncatedPrefix,
            badFlags,
            compressedWithoutEncoding,
            twoMessages,
            empty,
            badJson)) {
      HttpResponse<byte[]> response = post(START, "application/connect+json", body);

      assertThat(response.statusCode()).isEqualTo(200);
      List<Envelope> frames = frames(response.body());
      assertThat(frames).hasSize(1);
      assertThat(frames.getFirst().flags()).isEqualTo(2);
      assertThat(new String(frames.getFirst().payload(), UTF_8))
          .startsWith("{\"error\":{\"code\":\"invalid_argument\"");
    }
  }

  @Test
  void oversizedEnvelopeIsResourceExhausted() throws Exception {
    byte[] prefixOnly = new byte[] {0, 0x7F, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF};

    HttpResponse<byte[]> response = post(START, "application/connect+json", prefixOnly);

    assertThat(new String(frames(response.body()).getFirst().payload(), UTF_8))
        .startsWith("{\"error\":{\"code\":\"resource_exhausted\"");
  }

  @Test
  void invalidTimeoutEndsTheStreamWithInvalidArgument() throws Exception {
    HttpResponse<byte[]> response =
        post(
            START,
            "application/connect+json",
            envelope(0, "{\"process\":{\"cmd\":\"echo\"}}"),
            "Connect-Timeout-Ms",
            "soon");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(new String(frames(response.body()).getFirst().payload(), UTF_8))
        .startsWith("{\"error\":{\"code\":\"invalid_argument\"");
  }

  @Test
  void streamDeadlineEndsTheStreamCancelsAndInterruptsTheHandler() throws Exception {
    HttpResponse<byte[]> response =
        post(
            START,
            "application/connect+json",
            envelope(0, "{\"process\":{\"cmd\":\"forever\"}}"),
            "Connect-Timeout-Ms",
            "300");

    assertThat(response.body())
        .isEqualTo(
            concat(
                envelope(0, "{\"event\":{\"start\":{\"pid\":42}}}"),
                envelope(
                    2,
                    "{\"error\":{\"code\":\"deadline_exceeded\","
                        + "\"message\":\"deadline exceeded\"}}")));
    TestServices services = server.services;
    assertThat(services.interrupted.get(10, TimeUnit.SECONDS)).isTrue();
    assertThat(services.cancelledSeen.get(10, TimeUnit.SECONDS)).isTrue();
    assertThat(services.sendFailure.get(10, TimeUnit.SECONDS))
        .isEqualTo(ConnectCode.DEADLINE_EXCEEDED);
  }

  @Test
  void aHandlerThatEndsOnSeeingTheDeadlineStillEndsTheStreamWithDeadlineExceeded()
      throws Exception {
    for (int i = 0; i < 30; i++) {
      HttpResponse<byte[]> response =
          post(
              START,
              "application/connect+json",
              envelope(0, "{\"process\":{\"cmd\":\"watch\"}}"),
              "Connect-Timeout-Ms",
              "20");

      assertThat(response.body())
          .as("try %d", i)
          .isEqualTo(
              concat(
                  envelope(0, "{\"event\":{\"start\":{\"pid\":42}}}"),
                  envelope(
                      2,
                      "{\"error\":{\"code\":\"deadline_exceeded\","
                          + "\"message\":\"deadline exceeded\"}}")));
    }
  }

  @Test
  void streamDeadlineBeforeTheFirstMessage() throws Exception {
    HttpResponse<byte[]> response =
        post(
            START,
            "application/connect+json",
            envelope(0, "{\"process\":{\"cmd\":\"silent\"}}"),
            "Connect-Timeout-Ms",
            "200");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/connect+json");
    assertThat(response.body())
        .isEqualTo(
            envelope(
                2,
                "{\"error\":{\"code\":\"deadline_exceeded\",\"message\":\"deadline exceeded\"}}"));
  }

  @Test
  void eachMessageIsFlushedAsItIsSent() throws Exception {
    HttpResponse<InputStream> response =
        http.send(
            HttpRequest.newBuilder(server.uri(START))
                .header("Content-Type", "application/connect+json")
                .POST(
                    HttpRequest.BodyPublishers.ofByteArray(
                        envelope(0, "{\"process\":{\"cmd\":\"latch\"}}")))
                .build(),
            HttpResponse.BodyHandlers.ofInputStream());
    try (InputStream in = response.body()) {
      byte[] first = envelope(0, "{\"event\":{\"start\":{\"pid\":42}}}");

      assertThat(in.readNBytes(first.length)).isEqualTo(first);

      server.services.release.countDown();
      assertThat(in.readAllBytes())
          .isEqualTo(
              concat(
                  envelope(
                      0, "{\"event\":{\"end\":{\"exited\":true,\"status\":\"exit status 0\"}}}"),
                  envelope(2, "{}")));
    }
  }

  // ---- client streaming

  @Test
  void clientStreamWireBytes() throws Exception {
    byte[] body =
        concat(
            envelope(0, "{\"start\":{\"process\":{\"pid\":1}}}"),
            envelope(0, "{\"data\":{\"input\":{\"stdin\":\"YWJj\"}}}"),
            envelope(0, "{\"data\":{\"input\":{\"stdin\":\"ZGVm\"}}}"));

    HttpResponse<byte[]> response = post(STREAM_INPUT, "application/connect+json", body);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/connect+json");
    assertThat(response.headers().firstValue("X-Count")).hasValue("3");
    assertThat(response.body()).isEqualTo(concat(envelope(0, "{}"), envelope(2, "{}")));
  }

  @Test
  void clientStreamHandlerErrorGoesIntoTheEndStreamMessage() throws Exception {
    HttpResponse<byte[]> response =
        post(STREAM_INPUT, "application/connect+json", envelope(0, "{\"keepalive\":{}}"));

    assertThat(response.body())
        .isEqualTo(
            envelope(
                2,
                "{\"error\":{\"code\":\"failed_precondition\","
                    + "\"message\":\"no keepalive please\"}}"));
  }

  @Test
  void clientStreamTruncatedEnvelopeIsInvalidArgument() throws Exception {
    byte[] body = concat(envelope(0, "{}"), new byte[] {0, 0, 0, 0, 9, '{'});

    HttpResponse<byte[]> response = post(STREAM_INPUT, "application/connect+json", body);

    assertThat(new String(frames(response.body()).getFirst().payload(), UTF_8))
        .startsWith("{\"error\":{\"code\":\"invalid_argument\",\"message\":\"truncated envelope");
  }

  // ---- helpers

  private HttpResponse<byte[]> post(String path, String contentType, byte[] body, String... headers)
      throws IOException, InterruptedException {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(server.uri(path))
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  static byte[] envelope(int flags, String json) {
    return envelope(flags, json.getBytes(UTF_8));
  }

  static byte[] envelope(int flags, byte[] payload) {
    return new Envelope(flags, payload).toBytes();
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  static List<Envelope> frames(byte[] body) throws IOException {
    List<Envelope> frames = new ArrayList<>();
    InputStream in = new java.io.ByteArrayInputStream(body);
    Envelope frame;
    while ((frame = Envelope.read(in, Integer.MAX_VALUE)) != null) {
      frames.add(frame);
    }
    return frames;
  }
}
