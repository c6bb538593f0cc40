package dev.sbx.envd.http;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.util.Locale;

/**
 * envd's CORS policy, as E2B's envd configures it: every origin, method and header is allowed;
 * preflights are answered at once with 204 (before the access token is checked); the Connect
 * headers plus {@code Location}, {@code Cache-Control} and {@code X-Content-Type-Options} are
 * exposed to scripts.
 */
final class Cors {
  static final String EXPOSED_HEADERS =
      "Grpc-Status, Grpc-Message, Grpc-Status-Details-Bin, Location, Cache-Control,"
          + " X-Content-Type-Options";
  static final String MAX_AGE_SECONDS = "7200";

  private Cors() {}

  /**
   * Adds the CORS headers to the reply of {@code exchange}; answers a preflight completely.
   *
   * @return true when the request was a preflight and has been answered
   */
  static boolean apply(HttpExchange exchange) throws IOException {
    Headers request = exchange.getRequestHeaders();
    Headers response = exchange.getResponseHeaders();
    String origin = request.getFirst("Origin");
    String requestedMethod = request.getFirst("Access-Control-Request-Method");
    if (exchange.getRequestMethod().equals("OPTIONS") && requestedMethod != null) {
      response.add("Vary", "Origin");
      response.add("Vary", "Access-Control-Request-Method");
      response.add("Vary", "Access-Control-Request-Headers");
      if (origin != null) {
        response.set("Access-Control-Allow-Origin", "*");
        response.set("Access-Control-Allow-Methods", requestedMethod.toUpperCase(Locale.ROOT));
        String requestedHeaders = request.getFirst("Access-Control-Request-Headers");
        if (requestedHeaders != null && !requestedHeaders.isBlank()) {
          response.set("Access-Control-Allow-Headers", requestedHeaders);
        }
        response.set("Access-Control-Max-Age", MAX_AGE_SECONDS);
      }
      exchange.sendResponseHeaders(204, -1);
      return true;
    }
    if (origin != null) {
      response.add("Vary", "Origin");
      response.set("Access-Control-Allow-Origin", "*");
      response.set("Access-Control-Expose-Headers", EXPOSED_HEADERS);
    }
    return false;
  }
}
