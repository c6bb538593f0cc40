package dev.sbx.testing;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * envd running on the host as a separate process, for tests that talk to it over HTTP (the E2B SDK
 * in debug mode, curl, the Connect client). It listens on {@code 127.0.0.1:<port>} only, since it
 * runs commands as root for whoever connects.
 *
 * <p>{@link #start} launches it (see {@link EnvdLaunch} for dist versus class path), with its
 * output in a log file, and returns once {@code GET /health} answers 204. {@link #close} kills envd
 * and every process it started (see {@link HostProcess#close}) and waits for them. Typical use:
 *
 * <pre>{@code
 * static HostEnvd envd;
 * @BeforeAll static void start() throws Exception {
 *   envd = HostEnvd.start(EnvdLaunch.detect(), 49983, Path.of("target/envd-49983.log"));
 *   envd.init("{\"defaultUser\":\"user\"}", null);
 * }
 * @AfterAll static void stop() { if (envd != null) envd.close(); }
 * }</pre>
 */
public final class HostEnvd implements AutoCloseable {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration POLL = Duration.ofMillis(100);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);
  private static final int LOG_TAIL = 4000;

  private final HostProcess process;
  private final int port;
  private final EnvdLaunch launch;
  private final HttpClient http;

  private HostEnvd(HostProcess process, int port, EnvdLaunch launch, HttpClient http) {
    this.process = process;
    this.port = port;
    this.launch = launch;
    this.http = http;
  }

  /** Starts envd on {@code port} with no extra environment. */
  public static HostEnvd start(EnvdLaunch launch, int port, Path logFile)
      throws IOException, InterruptedException {
    return start(launch, port, logFile, Map.of());
  }

  /**
   * Starts envd on {@code port}, adding {@code environment} to its environment (e.g. {@code
   * E2B_SANDBOX_ID}), and waits up to 60 s for {@code GET /health} = 204.
   *
   * @throws IllegalStateException when something already listens on the port, or envd exits or does
   *     not become healthy in time (the message holds the end of its log)
   */
  public static HostEnvd start(
      EnvdLaunch launch, int port, Path logFile, Map<String, String> environment)
      throws IOException, InterruptedException {
    requireNonNull(launch, "launch");
    requireNonNull(logFile, "logFile");
    requireNonNull(environment, "environment");
    if (listening(port)) {
      throw new IllegalStateException(
          "port " + port + " is already in use on 127.0.0.1 (another envd?); not starting envd");
    }
    Map<String, String> env = new HashMap<>(launch.environment());
    env.put("ENVD_PORT", Integer.toString(port));
    env.put("ENVD_HOST", "127.0.0.1");
    env.putAll(environment);
    HostProcess process = HostProcess.start(launch.command(), env, logFile);
    HttpClient http = HttpClient.newBuilder().connectTimeout(REQUEST_TIMEOUT).build();
    HostEnvd envd = new HostEnvd(process, port, launch, http);
    try {
      envd.awaitHealthy();
    } catch (RuntimeException | InterruptedException e) {
      envd.closeQuietly(e);
      throw e;
    }
    return envd;
  }

  private void awaitHealthy() throws InterruptedException {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    @Nullable String last = null;
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "envd ("
                + launch.description()
                + ") exited with "
                + process.exitCode().orElse(-1)
                + " before it was healthy; log "
                + process.logFile()
                + ":\n"
                + process.logTail(LOG_TAIL));
      }
      try {
        int status = get("/health").statusCode();
        if (status == 204) {
          return;
        }
        last = "GET /health = " + status;
      } catch (IOException e) {
        last = e.toString();
      }
      Thread.sleep(POLL);
    }
    throw new IllegalStateException(
        "envd ("
            + launch.description()
            + ") not healthy after "
            + START_TIMEOUT
            + " (last: "
            + last
            + "); log "
            + process.logFile()
            + ":\n"
            + process.logTail(LOG_TAIL));
  }

  private static boolean listening(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  public int port() {
    return port;
  }

  /** {@code http://127.0.0.1:<port>}, without a trailing slash. */
  public URI baseUrl() {
    return URI.create("http://127.0.0.1:" + port);
  }

  public HostProcess process() {
    return process;
  }

  public Path logFile() {
    return process.logFile();
  }

  public EnvdLaunch launch() {
    return launch;
  }

  /** {@code GET <path>} with no headers; the body is read as text. */
  public HttpResponse<String> get(String path) throws IOException, InterruptedException {
    requireNonNull(path, "path");
    HttpRequest request =
        HttpRequest.newBuilder(baseUrl().resolve(path)).timeout(REQUEST_TIMEOUT).GET().build();
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  /**
   * {@code POST /init} with a JSON body, as the orchestrator sends it after a start (e.g. {@code
   * {"defaultUser":"user"}}). When envd already has an access token, pass it as {@code
   * currentAccessToken}: it goes into {@code X-Access-Token}.
   *
   * @return the response (204 on success)
   */
  public HttpResponse<String> init(String json, @Nullable String currentAccessToken)
      throws IOException, InterruptedException {
    requireNonNull(json, "json");
    HttpRequest.Builder request =
        HttpRequest.newBuilder(baseUrl().resolve("/init"))
            .timeout(REQUEST_TIMEOUT)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json));
    if (currentAccessToken != null) {
      request.header("X-Access-Token", currentAccessToken);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Kills envd and every process it started, and waits for them (see {@link HostProcess}). */
  @Override
  public void close() {
    try {
      process.close();
    } finally {
      http.close();
    }
  }

  private void closeQuietly(Throwable cause) {
    try {
      close();
    } catch (RuntimeException e) {
      cause.addSuppressed(e);
    }
  }

  @Override
  public String toString() {
    return "HostEnvd[" + baseUrl() + ", " + launch.description() + ", log=" + logFile() + "]";
  }
}
