package dev.sbx.envd.http;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The query parameters of a request URI, decoded as HTML forms encode them ({@code +} is a space);
 * when a name repeats, its first value counts (as Go's {@code url.Values.Get}).
 */
public final class QueryParameters {
  private final Map<String, String> values;

  private QueryParameters(Map<String, String> values) {
    this.values = values;
  }

  /**
   * Parses the raw query of {@code uri}.
   *
   * @throws HttpStatusException 400 when a parameter is not valid percent-encoding
   */
  public static QueryParameters of(URI uri) {
    Map<String, String> values = new LinkedHashMap<>();
    String query = uri.getRawQuery();
    if (query != null && !query.isEmpty()) {
      for (String pair : query.split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        String name = decode(eq < 0 ? pair : pair.substring(0, eq));
        String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
        values.putIfAbsent(name, value);
      }
    }
    return new QueryParameters(values);
  }

  /** The first value of {@code name}, {@code null} when the query does not have it. */
  public @Nullable String get(String name) {
    return values.get(name);
  }

  private static String decode(String text) {
    try {
      return URLDecoder.decode(text, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new HttpStatusException(400, "invalid query parameter encoding: " + text);
    }
  }
}
