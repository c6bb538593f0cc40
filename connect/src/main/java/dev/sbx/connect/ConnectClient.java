package dev.sbx.connect;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Calls Connect services over HTTP/1.1 with {@code java.net.http}: unary, server-streaming and
 * client-streaming calls, JSON (default) or binary protobuf. Failures are thrown as {@link
 * ConnectException}: the server's Connect error, or a code inferred from the HTTP status or the
 * transport failure ({@code unavailable}, {@code deadline_exceeded}, {@code canceled}).
 */
public final class ConnectClient implements AutoCloseable {
  /** A streaming call is aborted client-side this long after its deadline if the server is mute. */
  static final Duration STREAM_DEADLINE_GRACE = Duration.ofSeconds(1);

  private static final long MAX_TIMEOUT_MILLIS = 9_999_999_999L;
  private static final int ERROR_SNIPPET_CHARS = 256;

  private final String baseUri;
  private final Codec codec;
  private final Map<String, List<String>> defaultHeaders;
  private final boolean requestGzip;
  private final @Nullable Duration timeout;
  private final int maxMessageBytes;
  private final HttpClient http;
  // false: the caller's client (see Builder#httpClient), which close() leaves open
  private final boolean ownsHttp;

  private ConnectClient(Builder builder) {
    String base = builder.baseUri.toString();
    this.baseUri = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    this.codec = builder.codec;
    this.defaultHeaders = Map.copyOf(builder.headers);
    this.requestGzip = builder.requestGzip;
    this.timeout = builder.timeout;
    this.maxMessageBytes = builder.maxMessageBytes;
    HttpClient shared = builder.httpClient;
    this.ownsHttp = shared == null;
    this.http = shared != null ? shared : newHttpClient(builder.connectTimeout);
  }

  /**
   * An HTTP/1.1 client as a {@link ConnectClient} makes its own: {@code connectTimeout}, redirects
   * followed. Each one has a selector thread and a connection pool of its own; clients of many
   * servers can share one ({@link Builder#httpClient}).
   */
  public static HttpClient newHttpClient(Duration connectTimeout) {
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(requireNonNull(connectTimeout, "connectTimeout"))
        .followRedirects(HttpClient.Redirect.NORMAL)
        .build();
  }

  /** A client of the server at {@code baseUri}, e.g. {@code http://127.0.0.1:49983}. */
  public static Builder builder(URI baseUri) {
    return new Builder(baseUri);
  }

  public Codec codec() {
    return codec;
  }

  /** A unary call with the client's defaults. */
  public <Res extends Message> Res unary(String procedure, Message request, Res responsePrototype) {
    return unary(procedure, request, responsePrototype, CallOptions.none());
  }

  /**
   * A unary call.
   *
   * @param procedure e.g. {@code process.Process/List}
   */
  public <Res extends Message> Res unary(
      String procedure, Message request, Res responsePrototype, CallOptions options) {
    requireNonNull(procedure, "procedure");
    requireNonNull(request, "request");
    requireNonNull(responsePrototype, "responsePrototype");
    requireNonNull(options, "options");
    byte[] body = codec.encode(request);
    Duration deadline = deadline(options);
    HttpRequest.Builder http = request(procedure, codec.unaryContentType(), deadline, options);
    http.setHeader("Accept-Encoding", Gzip.NAME);
    if (requestGzip) {
      body = Gzip.compress(body);
      http.setHeader("Content-Encoding", Gzip.NAME);
    }
    if (deadline != null) {
      http.timeout(deadline);
    }
    HttpResponse<InputStream> response =
        send(http.POST(HttpRequest.BodyPublishers.ofByteArray(body)));
    byte[] responseBody;
    try (InputStream in = response.body()) {
      responseBody = Gzip.readBounded(in, maxMessageBytes);
    } catch (IOException e) {
      throw new ConnectException(ConnectCode.UNAVAILABLE, "reading the response failed: " + e, e);
    }
    boolean gzipped =
        response
            .headers()
            .firstValue("Content-Encoding")
            .map(value -> value.strip().equalsIgnoreCase(Gzip.NAME))
            .orElse(false);
    if (gzipped) {
      responseBody = Gzip.decompress(responseBody, maxMessageBytes);
    }
    if (response.statusCode() != 200) {
      throw httpError(response.statusCode(), responseBody);
    }
    String contentType = response.headers().firstValue("Content-Type").orElse(null);
    if (Codec.fromUnaryContentType(contentType) != codec) {
      throw new ConnectException(
          ConnectCode.INTERNAL, "unexpected response content type " + contentType);
    }
    try {
      return codec.decode(responseBody, responsePrototype);
    } catch (ConnectException e) {
      throw new ConnectException(ConnectCode.INTERNAL, e.getMessage(), e);
    }
  }

  /** A server-streaming call with the client's defaults. */
  public <Res extends Message> ServerStream<Res> serverStream(
      String procedure, Message request, Res responsePrototype) {
    return serverStream(procedure, request, responsePrototype, CallOptions.none());
  }

  /**
   * A server-streaming call: returns once the response headers have arrived (the server sends them
   * with its first message or the end of the stream). Close the stream when done with it.
   */
  public <Res extends Message> ServerStream<Res> serverStream(
      String procedure, Message request, Res responsePrototype, CallOptions options) {
    requireNonNull(procedure, "procedure");
    requireNonNull(request, "request");
    requireNonNull(responsePrototype, "responsePrototype");
    requireNonNull(options, "options");
    byte[] envelope = encodeEnvelope(request);
    return openStream(
        procedure,
        HttpRequest.BodyPublishers.ofByteArray(envelope),
        responsePrototype,
        options,
        null);
  }

  /** A client-streaming call with the client's defaults. */
  public <Res extends Message> Res clientStream(
      String procedure, Iterable<? extends Message> requests, Res responsePrototype) {
    return clientStream(procedure, requests, responsePrototype, CallOptions.none());
  }

  /**
   * A client-streaming call: sends the requests as they are produced by the iterable (the body is
   * streamed, chunked), then returns the server's one response.
   */
  public <Res extends Message> Res clientStream(
      String procedure,
      Iterable<? extends Message> requests,
      Res responsePrototype,
      CallOptions options) {
    requireNonNull(procedure, "procedure");
    requireNonNull(requests, "requests");
    requireNonNull(responsePrototype, "responsePrototype");
    requireNonNull(options, "options");
    EnvelopeBody body = new EnvelopeBody(requests.iterator());
    try (ServerStream<Res> stream =
        openStream(
            procedure,
            HttpRequest.BodyPublishers.ofInputStream(() -> body),
            responsePrototype,
            options,
            body)) {
      Res response = stream.next();
      if (response == null) {
        throw new ConnectException(ConnectCode.INTERNAL, "the server sent no response message");
      }
      if (stream.next() != null) {
        throw new ConnectException(
            ConnectCode.INTERNAL, "the server sent more than one response message");
      }
      return response;
    }
  }

  private <Res extends Message> ServerStream<Res> openStream(
      String procedure,
      HttpRequest.BodyPublisher body,
      Res responsePrototype,
      CallOptions options,
      @Nullable EnvelopeBody requestBody) {
    Duration deadline = deadline(options);
    HttpRequest.Builder http = request(procedure, codec.streamContentType(), deadline, options);
    http.setHeader("Connect-Accept-Encoding", Gzip.NAME);
    if (requestGzip) {
      http.setHeader("Connect-Content-Encoding", Gzip.NAME);
    }
    if (deadline != null) {
      http.timeout(deadline.plus(STREAM_DEADLINE_GRACE));
    }
    HttpResponse<InputStream> response;
    try {
      response = send(http.POST(body));
    } catch (ConnectException e) {
      RuntimeException encodingFailure = requestBody == null ? null : requestBody.failure;
      if (encodingFailure != null) {
        throw encodingFailure;
      }
      throw e;
    }
    InputStream in = response.body();
    if (response.statusCode() != 200) {
      byte[] errorBody;
      try (in) {
        errorBody = in.readNBytes(64 * 1024);
      } catch (IOException e) {
        errorBody = new byte[0];
      }
      throw httpError(response.statusCode(), errorBody);
    }
    String contentType = response.headers().firstValue("Content-Type").orElse(null);
    if (Codec.fromStreamContentType(contentType) != codec) {
      try {
        in.close();
      } catch (IOException e) {
        // the connection is dropped either way
      }
      throw new ConnectException(
          ConnectCode.INTERNAL, "unexpected response content type " + contentType);
    }
    boolean gzip =
        response
            .headers()
            .firstValue("Connect-Content-Encoding")
            .map(value -> value.strip().equalsIgnoreCase(Gzip.NAME))
            .orElse(false);
    ServerStream<Res> stream =
        new ServerStream<>(response.headers(), in, codec, responsePrototype, gzip, maxMessageBytes);
    if (deadline != null) {
      stream.startDeadline(deadline.plus(STREAM_DEADLINE_GRACE));
    }
    return stream;
  }

  private @Nullable Duration deadline(CallOptions options) {
    Duration chosen = options.timeout() != null ? options.timeout() : timeout;
    return chosen == null || chosen.isZero() ? null : chosen;
  }

  private HttpRequest.Builder request(
      String procedure, String contentType, @Nullable Duration deadline, CallOptions options) {
    String path = procedure.startsWith("/") ? procedure : "/" + procedure;
    HttpRequest.Builder http = HttpRequest.newBuilder(URI.create(baseUri + path));
    Map<String, List<String>> headers = new LinkedHashMap<>(defaultHeaders);
    options.headers().forEach(headers::put);
    headers.forEach((name, values) -> values.forEach(value -> http.header(name, value)));
    http.setHeader("Content-Type", contentType);
    http.setHeader("Connect-Protocol-Version", "1");
    if (deadline != null) {
      long millis = Math.min(Math.max(deadline.toMillis(), 1), MAX_TIMEOUT_MILLIS);
      http.setHeader("Connect-Timeout-Ms", Long.toString(millis));
    }
    return http;
  }

  private HttpResponse<InputStream> send(HttpRequest.Builder request) {
    try {
      return http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (HttpTimeoutException e) {
      throw new ConnectException(ConnectCode.DEADLINE_EXCEEDED, "deadline exceeded", e);
    } catch (IOException e) {
      throw new ConnectException(ConnectCode.UNAVAILABLE, "request failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ConnectException(ConnectCode.CANCELED, "interrupted", e);
    }
  }

  private byte[] encodeEnvelope(Message message) {
    byte[] payload = codec.encode(message);
    if (requestGzip) {
      return new Envelope(Envelope.COMPRESSED, Gzip.compress(payload)).toBytes();
    }
    return new Envelope(0, payload).toBytes();
  }

  /**
   * The error of a non-200 response: the Connect error in a JSON body, else a code inferred from
   * the status (with the body's {@code message}, if it has one, or a short excerpt of it).
   */
  static ConnectException httpError(int status, byte[] body) {
    Struct object = ErrorJson.parseObject(body);
    if (object != null) {
      ConnectException error = ErrorJson.parseError(object);
      if (error != null) {
        return error;
      }
      String message = ErrorJson.stringField(object, "message");
      if (!message.isEmpty()) {
        return new ConnectException(ConnectCode.fromHttpStatus(status), message);
      }
    }
    String text = new String(body, StandardCharsets.UTF_8).strip();
    if (text.length() > ERROR_SNIPPET_CHARS) {
      text = text.substring(0, ERROR_SNIPPET_CHARS) + "...";
    }
    return new ConnectException(
        ConnectCode.fromHttpStatus(status), "HTTP " + status + (text.isEmpty() ? "" : ": " + text));
  }

  @Override
  public void close() {
    if (ownsHttp) {
      http.close();
    }
  }

  /** The request body of a client stream: each message enveloped as the HTTP client reads it. */
  private final class EnvelopeBody extends InputStream {
    private final Iterator<? extends Message> messages;
    private byte[] current = new byte[0];
    private int position;
    volatile @Nullable RuntimeException failure;

    EnvelopeBody(Iterator<? extends Message> messages) {
      this.messages = messages;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) == -1 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      if (length == 0) {
        return 0;
      }
      while (position == current.length) {
        try {
          if (!messages.hasNext()) {
            return -1;
          }
          current = encodeEnvelope(requireNonNull(messages.next(), "request message"));
        } catch (RuntimeException e) {
          failure = e;
          throw new IOException("encoding a request message failed", e);
        }
        position = 0;
      }
      int count = Math.min(length, current.length - position);
      System.arraycopy(current, position, buffer, offset, count);
      position += count;
      return count;
    }
  }

  /** Configures a {@link ConnectClient}. */
  public static final class Builder {
    private final URI baseUri;
    private Codec codec = Codec.JSON;
    private final Map<String, List<String>> headers = new LinkedHashMap<>();
    private boolean requestGzip;
    private @Nullable Duration timeout;
    private Duration connectTimeout = Duration.ofSeconds(10);
    private int maxMessageBytes = ConnectHandler.DEFAULT_MAX_MESSAGE_BYTES;
    private @Nullable HttpClient httpClient;

    private Builder(URI baseUri) {
      this.baseUri = requireNonNull(baseUri, "baseUri");
      String scheme = baseUri.getScheme();
      if (scheme == null || !List.of("http", "https").contains(scheme.toLowerCase(Locale.ROOT))) {
        throw new IllegalArgumentException("baseUri must be http or https: " + baseUri);
      }
    }

    /** JSON (the default) or binary protobuf. */
    public Builder codec(Codec codec) {
      this.codec = requireNonNull(codec, "codec");
      return this;
    }

    /** A header sent with every call (calls may replace it). */
    public Builder header(String name, String value) {
      requireNonNull(name, "name");
      requireNonNull(value, "value");
      List<String> values = new ArrayList<>(headers.getOrDefault(name, List.of()));
      values.add(value);
      headers.put(name, List.copyOf(values));
      return this;
    }

    /** Whether request messages are gzipped; off by default. */
    public Builder requestGzip(boolean requestGzip) {
      this.requestGzip = requestGzip;
      return this;
    }

    /** The default deadline of every call; none by default. */
    public Builder timeout(Duration timeout) {
      requireNonNull(timeout, "timeout");
      if (timeout.isNegative()) {
        throw new IllegalArgumentException("negative timeout " + timeout);
      }
      this.timeout = timeout;
      return this;
    }

    /**
     * Calls go through {@code client} (its connections are then shared with its other users, and
     * {@link ConnectClient#close} leaves it open) instead of a client of the ConnectClient's own;
     * {@link #connectTimeout} is then the shared client's.
     */
    public Builder httpClient(HttpClient client) {
      this.httpClient = requireNonNull(client, "client");
      return this;
    }

    /** How long to wait for a TCP connection; 10 s by default. */
    public Builder connectTimeout(Duration connectTimeout) {
      this.connectTimeout = requireNonNull(connectTimeout, "connectTimeout");
      return this;
    }

    /** The largest response message accepted; 16 MiB by default. */
    public Builder maxMessageBytes(int maxMessageBytes) {
      if (maxMessageBytes <= 0) {
        throw new IllegalArgumentException("maxMessageBytes must be positive");
      }
      this.maxMessageBytes = maxMessageBytes;
      return this;
    }

    public ConnectClient build() {
      return new ConnectClient(this);
    }
  }
}
