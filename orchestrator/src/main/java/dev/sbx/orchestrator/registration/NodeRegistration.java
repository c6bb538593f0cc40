package dev.sbx.orchestrator.registration;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * Registers this orchestrator with an API server ({@code POST {api}/admin/nodes} with {@code
 * X-Admin-Token}) at start and then every interval, on a virtual thread. The API drops a node whose
 * registrations stop for its TTL, so the repeated registration is the node's heartbeat. A failed
 * registration (API down, wrong token, bad answer) is logged and tried again at the next interval;
 * it never stops the orchestrator. {@link #close} stops it.
 */
public final class NodeRegistration implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(NodeRegistration.class.getName());
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

  /**
   * What to register.
   *
   * @param api the API server's base URL, e.g. {@code http://api:3000}
   * @param adminToken its {@code X-Admin-Token}
   * @param nodeId this node's id
   * @param grpcAddress {@code host:port} where the API reaches this node's gRPC API
   * @param proxyAddress {@code host:port} where client proxies reach this node's proxy
   * @param interval how often to register (the API's node TTL should be about 3x this)
   */
  public record Settings(
      URI api,
      String adminToken,
      String nodeId,
      String grpcAddress,
      String proxyAddress,
      Duration interval) {
    public Settings {
      Objects.requireNonNull(api, "api");
      Objects.requireNonNull(adminToken, "adminToken");
      Objects.requireNonNull(nodeId, "nodeId");
      Objects.requireNonNull(grpcAddress, "grpcAddress");
      Objects.requireNonNull(proxyAddress, "proxyAddress");
      String scheme = api.getScheme();
      if (!"http".equals(scheme) && !"https".equals(scheme)) {
        throw new IllegalArgumentException("the API URL must be http:// or https://: " + api);
      }
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("the registration interval must be positive");
      }
    }
  }

  private final Settings settings;
  private final HttpClient http;
  private final URI endpoint;
  private final String body;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final AtomicLong successes = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private volatile boolean failing;
  private @Nullable Thread thread;

  private NodeRegistration(Settings settings) {
    this.settings = settings;
    this.http = HttpClient.newBuilder().connectTimeout(REQUEST_TIMEOUT).build();
    String base = settings.api().toString();
    this.endpoint = URI.create((base.endsWith("/") ? base : base + "/") + "admin/nodes");
    JsonObject json = new JsonObject();
    json.addProperty("id", settings.nodeId());
    json.addProperty("grpcAddress", settings.grpcAddress());
    json.addProperty("proxyAddress", settings.proxyAddress());
    this.body = json.toString();
  }

  /** Starts registering now and every interval on a virtual thread. */
  public static NodeRegistration start(Settings settings) {
    NodeRegistration registration = new NodeRegistration(settings);
    registration.thread = Thread.ofVirtual().name("sbx-node-registration").start(registration::run);
    return registration;
  }

  /** Registrations the API accepted so far. */
  public long successes() {
    return successes.get();
  }

  /** Registrations that failed so far. */
  public long failures() {
    return failures.get();
  }

  private void run() {
    try {
      do {
        registerOnce();
      } while (!stopped.await(settings.interval().toMillis(), TimeUnit.MILLISECONDS));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void registerOnce() throws InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(endpoint)
            .timeout(REQUEST_TIMEOUT)
            .header("Content-Type", "application/json")
            .header("X-Admin-Token", settings.adminToken())
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build();
    String problem;
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      int status = response.statusCode();
      if (status == 200 || status == 201) {
        successes.incrementAndGet();
        if (failing || status == 201) {
          LOG.log(
              System.Logger.Level.INFO,
              "registered node {0} with {1}",
              settings.nodeId(),
              settings.api());
        }
        failing = false;
        return;
      }
      problem = "HTTP " + status + " " + truncate(response.body());
    } catch (IOException e) {
      problem = e.toString();
    }
    failures.incrementAndGet();
    LOG.log(
        System.Logger.Level.WARNING,
        "registering node {0} with {1} failed (trying again every {2}): {3}",
        settings.nodeId(),
        endpoint,
        settings.interval(),
        problem);
    failing = true;
  }

  private static String truncate(String s) {
    return s.length() <= 300 ? s : s.substring(0, 300) + "...";
  }

  /** Stops registering (the API drops the node after its TTL, or at once if it is unhealthy). */
  @Override
  public void close() {
    stopped.countDown();
    Thread t = thread;
    if (t != null) {
      t.interrupt();
      try {
        t.join(REQUEST_TIMEOUT.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    http.close();
  }
}
