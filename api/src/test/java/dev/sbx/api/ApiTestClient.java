package dev.sbx.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.jspecify.annotations.Nullable;

/**
 * The HTTP client the api tests talk to a running {@link ApiServer} with: bound to its port on
 * 127.0.0.1 and to one API key (sent by {@link #authed}), answers read whole as strings.
 */
final class ApiTestClient {
  /** One answer: its status, its body, and the response itself for headers. */
  record Response(int status, String body, HttpResponse<String> raw) {
    JsonObject json() {
      return new JsonObject(body);
    }

    JsonArray array() {
      return new JsonArray(body);
    }

    @Nullable String header(String name) {
      return raw.headers().firstValue(name).orElse(null);
    }
  }

  private final HttpClient http = HttpClient.newHttpClient();
  private final int port;
  private final String key;

  ApiTestClient(int port, String key) {
    this.port = port;
    this.key = key;
  }

  /**
   * Sends {@code method path} with {@code body} as JSON (none when null) and the given header
   * name/value pairs, and no API key unless one is among them.
   */
  Response call(String method, String path, @Nullable String body, String... headers)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    HttpResponse<String> response =
        http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    return new Response(response.statusCode(), response.body(), response);
  }

  /** {@link #call} with this client's API key in {@code X-API-Key}. */
  Response authed(String method, String path, @Nullable String body) throws Exception {
    return call(method, path, body, "X-API-Key", key);
  }

  /** Asserts an E2B error answer: {@code status}, and a body {@code {"code":status,"message"}}. */
  static void assertError(Response r, int status, String messageStart) {
    assertThat(r.status()).as(r.body()).isEqualTo(status);
    JsonObject json = r.json();
    assertThat(json.getInteger("code")).isEqualTo(status);
    assertThat(json.getString("message")).startsWith(messageStart);
  }
}
