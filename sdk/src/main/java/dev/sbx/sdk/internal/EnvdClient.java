package dev.sbx.sdk.internal;

import static java.util.Objects.requireNonNull;

import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.protobuf.Message;
import dev.sbx.connect.CallOptions;
import dev.sbx.connect.ConnectClient;
import dev.sbx.connect.ConnectException;
import dev.sbx.connect.ServerStream;
import dev.sbx.sdk.AuthenticationException;
import dev.sbx.sdk.ConnectionConfig;
import dev.sbx.sdk.InvalidArgumentException;
import dev.sbx.sdk.NotEnoughSpaceException;
import dev.sbx.sdk.NotFoundException;
import dev.sbx.sdk.RateLimitException;
import dev.sbx.sdk.SandboxException;
import dev.sbx.sdk.TimeoutException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import org.jspecify.annotations.Nullable;

/**
 * One sandbox's envd: Connect RPC (JSON codec) and plain HTTP ({@code /files}, {@code /health}),
 * with the headers E2B's SDKs send to envd ({@code E2b-Sandbox-Id}, {@code E2b-Sandbox-Port},
 * {@code X-Access-Token} when the sandbox is secure) and their error mapping.
 */
public final class EnvdClient implements AutoCloseable {
  /** E2B's SDKs ask envd for a keepalive every 50 s on streams. */
  static final String KEEPALIVE_SECONDS = "50";

  /** The user E2B's SDKs send to envd older than 0.4.0, which has no default user of its own. */
  static final String LEGACY_DEFAULT_USER = "user";

  private static final int ERROR_SNIPPET_CHARS = 256;

  /**
   * One HTTP client for every sandbox's envd calls in the JVM, RPC and files (never closed): its
   * keep-alive connections to the client proxy serve every sandbox behind it (the E2B SDKs' shared
   * pool does the same), so that a new sandbox's first command starts no selector thread and opens
   * no connection.
   */
  private static final HttpClient HTTP = ConnectClient.newHttpClient(Duration.ofSeconds(10));

  private final ConnectionConfig config;
  private final String sandboxId;
  private final @Nullable String sandboxDomain;
  private final String baseUrl;
  private final @Nullable String accessToken;
  private final EnvdVersion version;
  private final Map<String, String> headers;
  private final ConnectClient rpc;
  // the streams opened through this client, which close() ends (weak: a stream its caller dropped
  // is forgotten)
  private final Set<ServerStream<?>> streams =
      Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

  public EnvdClient(
      ConnectionConfig config,
      String sandboxId,
      @Nullable String sandboxDomain,
      @Nullable String accessToken,
      EnvdVersion version) {
    this.config = requireNonNull(config, "config");
    this.sandboxId = requireNonNull(sandboxId, "sandboxId");
    this.sandboxDomain = sandboxDomain;
    this.baseUrl = config.envdUrl(sandboxId, sandboxDomain);
    this.accessToken = accessToken;
    this.version = requireNonNull(version, "version");
    Map<String, String> h = new LinkedHashMap<>();
    h.put("E2b-Sandbox-Id", sandboxId);
    h.put("E2b-Sandbox-Port", Integer.toString(ConnectionConfig.ENVD_PORT));
    if (accessToken != null) {
      h.put("X-Access-Token", accessToken);
    }
    h.put("User-Agent", SdkVersion.USER_AGENT);
    this.headers = java.util.Collections.unmodifiableMap(h);
    ConnectClient.Builder builder = ConnectClient.builder(URI.create(baseUrl)).httpClient(HTTP);
    h.forEach(builder::header);
    this.rpc = builder.build();
  }

  public String sandboxId() {
    return sandboxId;
  }

  public String baseUrl() {
    return baseUrl;
  }

  public EnvdVersion version() {
    return version;
  }

  public @Nullable String accessToken() {
    return accessToken;
  }

  public ConnectionConfig config() {
    return config;
  }

  public @Nullable String sandboxDomain() {
    return sandboxDomain;
  }

  /**
   * The user to name in a request: the caller's, else {@code user} for envd older than 0.4.0, else
   * none (envd's default user).
   */
  public @Nullable String effectiveUser(@Nullable String user) {
    if (user != null) {
      return user;
    }
    return version.atLeast(EnvdVersion.V0_4_0) ? null : LEGACY_DEFAULT_USER;
  }

  /** Call options with the user's {@code Authorization: Basic base64(user:)} and a deadline. */
  public CallOptions callOptions(@Nullable String user, Duration timeout, boolean stream) {
    CallOptions.Builder options = CallOptions.builder().timeout(timeout);
    String effective = effectiveUser(user);
    if (effective != null) {
      options.header(
          "Authorization",
          "Basic "
              + Base64.getEncoder()
                  .encodeToString((effective + ":").getBytes(StandardCharsets.UTF_8)));
    }
    if (stream) {
      options.header("Keepalive-Ping-Interval", KEEPALIVE_SECONDS);
    }
    return options.build();
  }

  /** A unary RPC; errors are mapped to the SDK's exceptions. */
  public <Res extends Message> Res unary(
      String procedure, Message request, Res prototype, @Nullable String user) {
    try {
      return rpc.unary(
          procedure, request, prototype, callOptions(user, config.requestTimeout(), false));
    } catch (ConnectException e) {
      throw rpcError(e);
    }
  }

  /**
   * Opens a server stream; errors are mapped to the SDK's exceptions. {@code timeout} is the
   * stream's deadline ({@code Connect-Timeout-Ms}); zero means none.
   */
  public <Res extends Message> ServerStream<Res> stream(
      String procedure, Message request, Res prototype, @Nullable String user, Duration timeout) {
    try {
      ServerStream<Res> stream =
          rpc.serverStream(procedure, request, prototype, callOptions(user, timeout, true));
      streams.add(stream);
      return stream;
    } catch (ConnectException e) {
      throw rpcError(e);
    }
  }

  /** The SDK's exception for a Connect error, as E2B's {@code handleRpcError} maps them. */
  public static SandboxException rpcError(ConnectException e) {
    String message = e.getMessage();
    return switch (e.code()) {
      case INVALID_ARGUMENT -> new InvalidArgumentException(message, e);
      case UNAUTHENTICATED -> new AuthenticationException(message, e);
      case NOT_FOUND -> new NotFoundException(message, e);
      case RESOURCE_EXHAUSTED -> new RateLimitException(message, e);
      case UNAVAILABLE ->
          new TimeoutException(
              message
                  + ": the sandbox is probably not running anymore (it may have timed out or been"
                  + " killed)",
              e);
      case CANCELED ->
          new TimeoutException(
              message + ": the request was cancelled, e.g. because the request timeout was hit", e);
      case DEADLINE_EXCEEDED ->
          new TimeoutException(
              message
                  + ": the timeout was exceeded; pass a longer timeout, or Duration.ZERO for none",
              e);
      default -> new SandboxException(e.code().wireName() + ": " + message, e);
    };
  }

  /** A plain HTTP request to envd with the sandbox headers. */
  public HttpRequest.Builder request(String pathAndQuery) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl + pathAndQuery));
    headers.forEach(request::setHeader);
    if (!config.requestTimeout().isZero()) {
      request.timeout(config.requestTimeout());
    }
    return request;
  }

  /** Sends a plain HTTP request; transport failures become SDK exceptions. */
  public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
    try {
      return HTTP.send(request, handler);
    } catch (HttpTimeoutException e) {
      throw new TimeoutException(
          "Request timed out: envd did not answer "
              + request.method()
              + " "
              + request.uri().getRawPath()
              + " in time",
          e);
    } catch (IOException e) {
      throw new SandboxException(
          "envd request " + request.method() + " " + request.uri().getRawPath() + " failed: " + e,
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SandboxException("interrupted", e);
    }
  }

  /** The SDK's exception for an envd HTTP error (E2B's {@code handleEnvdApiError}). */
  public static SandboxException httpError(int status, byte[] body) {
    String message = errorMessage(body);
    return switch (status) {
      case 400 -> new InvalidArgumentException(message);
      case 401 -> new AuthenticationException(message);
      case 404 -> new NotFoundException(message);
      case 429 -> new RateLimitException(message + ": the requests are being rate limited");
      case 502 ->
          new TimeoutException(
              message
                  + ": the sandbox is probably not running anymore (it may have timed out or been"
                  + " killed)");
      case 507 -> new NotEnoughSpaceException(message);
      default -> new SandboxException(status + ": " + message);
    };
  }

  /** Reads an error body from a stream response (at most 64 KiB) and maps it. */
  public static SandboxException httpError(int status, InputStream body) {
    byte[] bytes;
    try (body) {
      bytes = body.readNBytes(64 * 1024);
    } catch (IOException e) {
      bytes = new byte[0];
    }
    return httpError(status, bytes);
  }

  private static String errorMessage(byte[] body) {
    String text = new String(body, StandardCharsets.UTF_8).strip();
    try {
      JsonElement parsed = JsonParser.parseString(text);
      if (parsed.isJsonObject()) {
        JsonElement message = parsed.getAsJsonObject().get("message");
        if (message != null && message.isJsonPrimitive()) {
          return message.getAsString();
        }
      }
    } catch (JsonParseException e) {
      // not JSON: use the text
    }
    return text.length() > ERROR_SNIPPET_CHARS
        ? text.substring(0, ERROR_SNIPPET_CHARS) + "..."
        : text;
  }

  /**
   * Ends the streams opened through this client that are still open (command handles, watches). The
   * connections stay in the shared pool ({@link #HTTP}).
   */
  @Override
  public void close() {
    List<ServerStream<?>> open;
    synchronized (streams) {
      open = List.copyOf(streams);
      streams.clear();
    }
    open.forEach(ServerStream::close);
    rpc.close();
  }
}
