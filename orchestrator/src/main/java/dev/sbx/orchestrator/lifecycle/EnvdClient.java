package dev.sbx.orchestrator.lifecycle;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The orchestrator's side of envd's internal routes: waits for {@code GET /health} to answer 204
 * and sends {@code POST /init}. Both poll with a deadline: before envd listens, connections are
 * refused at once (the sandbox's interface is up), so polling costs little.
 */
final class EnvdClient implements AutoCloseable {
  static final int ENVD_PORT = 49983;
  private static final Duration POLL_INTERVAL = Duration.ofMillis(5);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);

  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(2))
          .build();

  /** Returns once {@code GET /health} answers 204, polling until {@code timeout} has passed. */
  void awaitHealthy(String address, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "no answer";
    while (true) {
      // no request outlives the deadline
      HttpRequest request =
          HttpRequest.newBuilder(uri(address, "/health"))
              .timeout(requestTimeout(deadline))
              .GET()
              .build();
      try {
        int status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
        if (status == 204) {
          return;
        }
        last = "status " + status;
      } catch (IOException e) {
        last = e.toString();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new EnvdException("interrupted while waiting for envd at " + address, e);
      }
      if (System.nanoTime() - deadline >= 0) {
        throw new EnvdException(
            "envd at " + address + " not healthy within " + timeout + " (last: " + last + ")");
      }
      sleep(POLL_INTERVAL);
    }
  }

  /**
   * Sends {@code POST /init}: the environment, access token, default user and working directory,
   * and the host's time. Retried on connection errors until {@code timeout}; any status but 204
   * fails at once.
   */
  void init(
      String address,
      Map<String, String> envVars,
      @Nullable String accessToken,
      @Nullable String defaultUser,
      @Nullable String defaultWorkdir,
      Instant now,
      Duration timeout) {
    init(address, envVars, accessToken, defaultUser, defaultWorkdir, now, timeout, null);
  }

  /**
   * As above; {@code currentToken} is the token envd already has (a restored checkpoint), sent as
   * {@code X-Access-Token} so that envd accepts a new one.
   */
  void init(
      String address,
      Map<String, String> envVars,
      @Nullable String accessToken,
      @Nullable String defaultUser,
      @Nullable String defaultWorkdir,
      Instant now,
      Duration timeout,
      @Nullable String currentToken) {
    JsonObject body = new JsonObject();
    JsonObject env = new JsonObject();
    envVars.forEach(env::addProperty);
    body.add("envVars", env);
    if (accessToken != null) {
      body.addProperty("accessToken", accessToken);
    }
    if (defaultUser != null) {
      body.addProperty("defaultUser", defaultUser);
    }
    if (defaultWorkdir != null) {
      body.addProperty("defaultWorkdir", defaultWorkdir);
    }
    body.addProperty("timestamp", DateTimeFormatter.ISO_INSTANT.format(now));
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(uri(address, "/init"))
            .timeout(REQUEST_TIMEOUT)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
    if (currentToken != null) {
      builder.header("X-Access-Token", currentToken);
    }
    HttpRequest request = builder.build();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 204) {
          return;
        }
        throw new EnvdException(
            "envd at "
                + address
                + " refused /init: "
                + response.statusCode()
                + " "
                + response.body());
      } catch (IOException e) {
        if (System.nanoTime() - deadline >= 0) {
          throw new EnvdException("envd at " + address + ": /init failed: " + e, e);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new EnvdException("interrupted while initialising envd at " + address, e);
      }
      sleep(POLL_INTERVAL);
    }
  }

  private static Duration requestTimeout(long deadline) {
    Duration remaining = Duration.ofNanos(deadline - System.nanoTime());
    if (remaining.compareTo(Duration.ofMillis(1)) < 0) {
      return Duration.ofMillis(1);
    }
    return remaining.compareTo(REQUEST_TIMEOUT) < 0 ? remaining : REQUEST_TIMEOUT;
  }

  private static URI uri(String address, String path) {
    return URI.create("http://" + address + ":" + ENVD_PORT + path);
  }

  private static void sleep(Duration duration) {
    try {
      Thread.sleep(duration);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EnvdException("interrupted", e);
    }
  }

  @Override
  public void close() {
    http.close();
  }
}
