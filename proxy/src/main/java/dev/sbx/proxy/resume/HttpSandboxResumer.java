package dev.sbx.proxy.resume;

import static java.util.Objects.requireNonNull;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.sbx.proxy.catalog.CatalogEntry;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;

/**
 * Asks the API server to auto-resume a sandbox: {@code POST
 * <apiUrl>/admin/sandboxes/<id>/auto-resume} with {@code X-Admin-Token} and {@code {"port",
 * "trafficAccessToken", "envdAccessToken"}}. 200 carries the route; 404, 403, 409 and 429 are the
 * API's refusals; anything else (or no answer within {@code timeout}) is a failed resume. What a
 * cluster's client proxy ({@code sbx proxy --api-url … --admin-token …}) uses.
 */
public final class HttpSandboxResumer implements SandboxResumer {
  private final URI apiUrl;
  private final String adminToken;
  private final Duration timeout;
  private final HttpClient http;

  /**
   * @param apiUrl the API server, e.g. {@code http://api.internal:3000}
   * @param adminToken the API's operator token
   * @param timeout how long one resume may take (the API waits up to a minute for a transition)
   */
  public HttpSandboxResumer(URI apiUrl, String adminToken, Duration timeout) {
    this.apiUrl = requireNonNull(apiUrl, "apiUrl");
    this.adminToken = requireNonNull(adminToken, "adminToken");
    this.timeout = requireNonNull(timeout, "timeout");
    String scheme = apiUrl.getScheme();
    if (!"http".equals(scheme) && !"https".equals(scheme)) {
      throw new IllegalArgumentException("apiUrl must be http or https: " + apiUrl);
    }
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  }

  @Override
  public CompletionStage<ResumeResult> resume(ResumeRequest request) {
    JsonObject body = new JsonObject();
    body.addProperty("port", request.port());
    if (request.trafficAccessToken() != null) {
      body.addProperty("trafficAccessToken", request.trafficAccessToken());
    }
    if (request.envdAccessToken() != null) {
      body.addProperty("envdAccessToken", request.envdAccessToken());
    }
    String base = apiUrl.toString().replaceAll("/+$", "");
    HttpRequest call =
        HttpRequest.newBuilder(
                URI.create(
                    base
                        + "/admin/sandboxes/"
                        + URLEncoder.encode(request.sandboxId(), StandardCharsets.UTF_8)
                        + "/auto-resume"))
            .timeout(timeout)
            .header("Content-Type", "application/json")
            .header("X-Admin-Token", adminToken)
            .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
            .build();
    return http.sendAsync(call, HttpResponse.BodyHandlers.ofString())
        .thenApply(response -> result(response.statusCode(), response.body()));
  }

  static ResumeResult result(int status, String body) {
    JsonObject json = parse(body);
    String message = string(json, "message");
    String said = message == null ? "the API answered " + status : message;
    return switch (status) {
      case 200 -> {
        if (json == null) {
          yield ResumeResult.refused(ResumeResult.Outcome.FAILED, "the API sent no route");
        }
        String sandboxId = string(json, "sandboxID");
        String nodeId = string(json, "nodeID");
        String host = string(json, "nodeProxyHost");
        JsonElement port = json.get("nodeProxyPort");
        if (sandboxId == null || nodeId == null || host == null || port == null) {
          yield ResumeResult.refused(ResumeResult.Outcome.FAILED, "the API sent an invalid route");
        }
        yield ResumeResult.resumed(
            new CatalogEntry(
                sandboxId,
                nodeId,
                host,
                port.getAsInt(),
                string(json, "trafficAccessToken"),
                CatalogEntry.RouteState.RUNNING,
                string(json, "envdAccessToken")));
      }
      case 404 -> ResumeResult.refused(ResumeResult.Outcome.NOT_FOUND, said);
      case 403 -> ResumeResult.refused(ResumeResult.Outcome.FORBIDDEN, said);
      case 409 -> ResumeResult.refused(ResumeResult.Outcome.TRANSITIONING, said);
      case 429 -> ResumeResult.refused(ResumeResult.Outcome.LIMIT_REACHED, said);
      default -> ResumeResult.refused(ResumeResult.Outcome.FAILED, "Resuming failed: " + said);
    };
  }

  private static @Nullable JsonObject parse(String body) {
    try {
      JsonElement element = JsonParser.parseString(body);
      return element.isJsonObject() ? element.getAsJsonObject() : null;
    } catch (JsonParseException | IllegalStateException e) {
      return null;
    }
  }

  private static @Nullable String string(@Nullable JsonObject json, String field) {
    if (json == null) {
      return null;
    }
    JsonElement value = json.get(field);
    return value == null || value.isJsonNull() ? null : value.getAsString();
  }
}
