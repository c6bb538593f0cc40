package dev.sbx.connect;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Message;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.sbx.connect.ServiceDefinition.MethodDefinition;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Serves {@link ServiceDefinition}s over the Connect protocol on the JDK {@code HttpServer}: mount
 * it on a context per service (e.g. {@code /process.Process/}). Requests are {@code POST
 * /<service>/<method>}. Unary calls speak {@code application/json} or {@code application/proto};
 * server- and client-streaming calls speak {@code application/connect+json} or {@code
 * application/connect+proto} with enveloped messages and an end-stream message. Request bodies may
 * be gzipped. Every exchange is expected on a thread of its own (a virtual thread per exchange):
 * handlers block that thread.
 */
public final class ConnectHandler implements HttpHandler {
  /** The default limit of one message, before and after decompression: 16 MiB. */
  public static final int DEFAULT_MAX_MESSAGE_BYTES = 16 << 20;

  /** Unary responses at least this large are gzipped for clients that accept gzip. */
  static final int COMPRESS_MIN_BYTES = 1024;

  /** How much of a rejected request body is read and dropped before answering. */
  static final long DISCARD_LIMIT = 64L << 20;

  private static final System.Logger LOG = System.getLogger(ConnectHandler.class.getName());
  private static final Pattern TIMEOUT = Pattern.compile("[0-9]{1,10}");
  private static final String UNARY_TYPES = "application/json, application/proto";
  private static final String STREAM_TYPES = "application/connect+json, application/connect+proto";

  private final Map<String, ServiceDefinition> services;
  private final int maxMessageBytes;

  private ConnectHandler(Map<String, ServiceDefinition> services, int maxMessageBytes) {
    this.services = Map.copyOf(services);
    this.maxMessageBytes = maxMessageBytes;
  }

  /** A handler for these services with the default limits. */
  public static ConnectHandler create(List<ServiceDefinition> services) {
    return builder().services(services).build();
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public void handle(HttpExchange exchange) {
    try {
      dispatch(exchange);
    } catch (RuntimeException | Error e) {
      LOG.log(Level.ERROR, "Connect request " + exchange.getRequestURI() + " failed", e);
      exchange.close();
    }
  }

  private void dispatch(HttpExchange exchange) {
    String path = exchange.getRequestURI().getRawPath();
    MethodDefinition<?, ?> method = resolve(path);
    if (method == null) {
      String procedure = path == null ? "" : path;
      sendPlainError(
          exchange,
          404,
          new ConnectException(ConnectCode.UNIMPLEMENTED, "unknown procedure " + procedure));
      return;
    }
    if (!exchange.getRequestMethod().equals("POST")) {
      exchange.getResponseHeaders().set("Allow", "POST");
      sendEmpty(exchange, 405);
      return;
    }
    String procedure = path.substring(1);
    String contentType = exchange.getRequestHeaders().getFirst("Content-Type");
    switch (method.kind()) {
      case UNARY -> {
        Codec codec = Codec.fromUnaryContentType(contentType);
        if (codec == null) {
          exchange.getResponseHeaders().set("Accept-Post", UNARY_TYPES);
          sendEmpty(exchange, 415);
          return;
        }
        serveUnary(exchange, procedure, codec, method);
      }
      case SERVER_STREAMING, CLIENT_STREAMING -> {
        Codec codec = Codec.fromStreamContentType(contentType);
        if (codec == null) {
          exchange.getResponseHeaders().set("Accept-Post", STREAM_TYPES);
          sendEmpty(exchange, 415);
          return;
        }
        serveStream(exchange, procedure, codec, method);
      }
    }
  }

  private @Nullable MethodDefinition<?, ?> resolve(@Nullable String path) {
    if (path == null || !path.startsWith("/")) {
      return null;
    }
    int slash = path.lastIndexOf('/');
    if (slash <= 0) {
      return null;
    }
    ServiceDefinition service = services.get(path.substring(1, slash));
    return service == null ? null : service.method(path.substring(slash + 1));
  }

  // ---- unary

  private <Req extends Message, Res extends Message> void serveUnary(
      HttpExchange exchange, String procedure, Codec codec, MethodDefinition<Req, Res> method) {
    Duration timeout;
    try {
      checkProtocolVersion(exchange);
      timeout = parseTimeout(exchange.getRequestHeaders().getFirst("Connect-Timeout-Ms"));
    } catch (ConnectException e) {
      ServerCall call = new ServerCall(exchange, procedure, null);
      writeUnaryError(call, e);
      call.finish();
      return;
    }
    ServerCall call = new ServerCall(exchange, procedure, timeout);
    try {
      if (timeout != null && !timeout.isZero()) {
        call.startDeadline(
            timeout,
            () -> {
              if (call.claimResponse()) {
                writeUnaryResponse(
                    call,
                    new ConnectException(ConnectCode.DEADLINE_EXCEEDED, "deadline exceeded"),
                    null,
                    codec);
                call.interruptHandler();
              }
            });
      }
      byte[] response;
      try {
        byte[] body = readUnaryBody(exchange);
        Req request = codec.decode(body, method.requestPrototype());
        UnaryHandler<Req, Res> handler = requireNonNull(method.unary(), "unary");
        response = codec.encode(handler.handle(request, call));
      } catch (ConnectException e) {
        writeUnaryError(call, e);
        return;
      } catch (RuntimeException | Error e) {
        writeUnaryError(call, internal(procedure, e));
        return;
      }
      if (call.claimResponse()) {
        writeUnaryResponse(call, null, response, codec);
      }
    } finally {
      call.finish();
    }
  }

  private static void writeUnaryError(ServerCall call, ConnectException error) {
    if (call.claimResponse()) {
      writeUnaryResponse(call, error, null, Codec.JSON);
    }
  }

  /** Writes a unary success ({@code message}) or error response and closes the exchange. */
  private static void writeUnaryResponse(
      ServerCall call, @Nullable ConnectException error, byte @Nullable [] message, Codec codec) {
    HttpExchange exchange = call.exchange();
    try {
      call.applyResponseHeaders();
      exchange.getResponseHeaders().set("Accept-Encoding", Gzip.NAME);
      int status;
      byte[] body;
      if (error != null || message == null) {
        ConnectException failure =
            error != null ? error : new ConnectException(ConnectCode.INTERNAL, "no response");
        status = failure.code().httpStatus();
        body = ErrorJson.errorBody(failure);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
      } else {
        status = 200;
        body = message;
        exchange.getResponseHeaders().set("Content-Type", codec.unaryContentType());
      }
      if (body.length >= COMPRESS_MIN_BYTES && acceptsGzip(exchange)) {
        body = Gzip.compress(body);
        exchange.getResponseHeaders().set("Content-Encoding", Gzip.NAME);
      }
      exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "{0}: client gone before the response", call.procedure());
    } finally {
      exchange.close();
    }
  }

  private byte[] readUnaryBody(HttpExchange exchange) {
    boolean gzip = requestGzip(exchange.getRequestHeaders().getFirst("Content-Encoding"));
    String length = exchange.getRequestHeaders().getFirst("Content-Length");
    try (InputStream in = exchange.getRequestBody()) {
      if (length != null && parseLength(length) > maxMessageBytes) {
        discard(exchange, in);
        throw tooLarge();
      }
      byte[] body;
      try {
        body = Gzip.readBounded(in, maxMessageBytes);
      } catch (ConnectException e) {
        discard(exchange, in);
        throw e;
      }
      return gzip ? Gzip.decompress(body, maxMessageBytes) : body;
    } catch (IOException e) {
      throw new ConnectException(ConnectCode.CANCELED, "reading the request failed", e);
    }
  }

  private static long parseLength(String length) {
    try {
      return Long.parseLong(length.strip());
    } catch (NumberFormatException e) {
      throw new ConnectException(ConnectCode.INVALID_ARGUMENT, "invalid Content-Length");
    }
  }

  /**
   * Reads and drops what is left of a rejected request body, up to {@link #DISCARD_LIMIT} bytes, so
   * that the client reads the error instead of a connection reset; beyond that the connection is
   * closed after the response.
   */
  private static void discard(HttpExchange exchange, InputStream in) throws IOException {
    long left = DISCARD_LIMIT;
    byte[] buffer = new byte[16 * 1024];
    int read;
    while (left > 0 && (read = in.read(buffer, 0, (int) Math.min(buffer.length, left))) != -1) {
      left -= read;
    }
    if (left <= 0) {
      exchange.getResponseHeaders().set("Connection", "close");
    }
  }

  private static boolean acceptsGzip(HttpExchange exchange) {
    for (String header : exchange.getRequestHeaders().getOrDefault("Accept-Encoding", List.of())) {
      for (String entry : header.split(",")) {
        String[] parts = entry.split(";");
        if (parts[0].strip().equalsIgnoreCase(Gzip.NAME)
            && !(parts.length > 1 && parts[1].replace(" ", "").matches("q=0(\\.0*)?"))) {
          return true;
        }
      }
    }
    return false;
  }

  // ---- streaming

  private <Req extends Message, Res extends Message> void serveStream(
      HttpExchange exchange, String procedure, Codec codec, MethodDefinition<Req, Res> method) {
    Duration timeout = null;
    ConnectException headerError = null;
    try {
      checkProtocolVersion(exchange);
      timeout = parseTimeout(exchange.getRequestHeaders().getFirst("Connect-Timeout-Ms"));
    } catch (ConnectException e) {
      headerError = e;
    }
    ServerCall call = new ServerCall(exchange, procedure, timeout);
    ServerResponseStream<Res> responses = new ServerResponseStream<>(call, codec);
    ConnectException failure = headerError;
    try {
      if (failure == null) {
        if (timeout != null && !timeout.isZero()) {
          call.startDeadline(timeout, responses::expire);
        }
        boolean gzip =
            requestGzip(exchange.getRequestHeaders().getFirst("Connect-Content-Encoding"));
        ServerRequestStream<Req> requests =
            new ServerRequestStream<>(
                exchange.getRequestBody(), codec, method.requestPrototype(), gzip, maxMessageBytes);
        if (method.kind() == ServiceDefinition.Kind.SERVER_STREAMING) {
          Req request = requests.receive();
          if (request == null) {
            throw new ConnectException(ConnectCode.INVALID_ARGUMENT, "missing request message");
          }
          if (requests.receive() != null) {
            throw new ConnectException(
                ConnectCode.INVALID_ARGUMENT, "more than one request message");
          }
          requireNonNull(method.serverStream(), "serverStream").handle(request, call, responses);
        } else {
          Res response =
              requireNonNull(method.clientStream(), "clientStream").handle(requests, call);
          responses.send(response);
        }
      }
    } catch (ConnectException e) {
      failure = e;
    } catch (RuntimeException | Error e) {
      failure = internal(procedure, e);
    } finally {
      try {
        responses.end(failure);
      } finally {
        call.finish();
      }
    }
  }

  // ---- shared

  private static void checkProtocolVersion(HttpExchange exchange) {
    String version = exchange.getRequestHeaders().getFirst("Connect-Protocol-Version");
    if (version != null && !version.strip().equals("1")) {
      throw new ConnectException(
          ConnectCode.INVALID_ARGUMENT, "unsupported Connect-Protocol-Version " + version);
    }
  }

  /** The {@code Connect-Timeout-Ms} header: 1 to 10 digits, else {@code invalid_argument}. */
  static @Nullable Duration parseTimeout(@Nullable String header) {
    if (header == null) {
      return null;
    }
    String value = header.strip();
    if (!TIMEOUT.matcher(value).matches()) {
      throw new ConnectException(
          ConnectCode.INVALID_ARGUMENT, "invalid Connect-Timeout-Ms " + header);
    }
    return Duration.ofMillis(Long.parseLong(value));
  }

  /** Whether a request encoding header means gzip; {@code unimplemented} for unknown ones. */
  private static boolean requestGzip(@Nullable String encoding) {
    if (encoding == null) {
      return false;
    }
    String name = encoding.strip().toLowerCase(Locale.ROOT);
    if (name.isEmpty() || name.equals("identity")) {
      return false;
    }
    if (name.equals(Gzip.NAME)) {
      return true;
    }
    throw new ConnectException(
        ConnectCode.UNIMPLEMENTED, "unsupported compression " + encoding + "; supported: gzip");
  }

  private ConnectException tooLarge() {
    return new ConnectException(
        ConnectCode.RESOURCE_EXHAUSTED,
        "message exceeds the limit of " + maxMessageBytes + " bytes");
  }

  private static ConnectException internal(String procedure, Throwable e) {
    LOG.log(Level.ERROR, "Connect handler " + procedure + " failed", e);
    return new ConnectException(ConnectCode.INTERNAL, "internal error");
  }

  private static void sendPlainError(HttpExchange exchange, int status, ConnectException error) {
    try {
      byte[] body = ErrorJson.errorBody(error);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(status, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "client gone before the error response", e);
    } finally {
      exchange.close();
    }
  }

  private static void sendEmpty(HttpExchange exchange, int status) {
    try {
      exchange.sendResponseHeaders(status, -1);
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "client gone before the response", e);
    } finally {
      exchange.close();
    }
  }

  /** Configures a {@link ConnectHandler}. */
  public static final class Builder {
    private final Map<String, ServiceDefinition> services = new LinkedHashMap<>();
    private int maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;

    private Builder() {}

    public Builder service(ServiceDefinition service) {
      requireNonNull(service, "service");
      if (services.putIfAbsent(service.name(), service) != null) {
        throw new IllegalArgumentException("duplicate service " + service.name());
      }
      return this;
    }

    public Builder services(List<ServiceDefinition> services) {
      requireNonNull(services, "services");
      new ArrayList<>(services).forEach(this::service);
      return this;
    }

    /** The largest message accepted, before and after decompression; default 16 MiB. */
    public Builder maxMessageBytes(int maxMessageBytes) {
      if (maxMessageBytes <= 0) {
        throw new IllegalArgumentException("maxMessageBytes must be positive");
      }
      this.maxMessageBytes = maxMessageBytes;
      return this;
    }

    public ConnectHandler build() {
      return new ConnectHandler(services, maxMessageBytes);
    }
  }
}
