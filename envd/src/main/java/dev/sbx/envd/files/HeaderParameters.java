package dev.sbx.envd.files;

import java.net.URLDecoder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A header value of the form {@code value; name=token; name="quoted \" string"} ({@code
 * Content-Type}, {@code Content-Disposition}): the value lower-cased, parameter names lower-cased,
 * quoted strings unescaped, and RFC 2231 extended parameters ({@code filename*=UTF-8''a%20b})
 * decoded into the plain name, where they win over the plain form.
 */
record HeaderParameters(String value, Map<String, String> parameters) {
  HeaderParameters {
    parameters = Map.copyOf(parameters);
  }

  @Nullable String get(String name) {
    return parameters.get(name);
  }

  static HeaderParameters parse(@Nullable String header) {
    if (header == null) {
      return new HeaderParameters("", Map.of());
    }
    int i = header.indexOf(';');
    String value = (i < 0 ? header : header.substring(0, i)).trim().toLowerCase(Locale.ROOT);
    Map<String, String> plain = new LinkedHashMap<>();
    Map<String, String> extended = new LinkedHashMap<>();
    int pos = i < 0 ? header.length() : i + 1;
    while (pos < header.length()) {
      int eq = header.indexOf('=', pos);
      int semi = header.indexOf(';', pos);
      if (eq < 0 || (semi >= 0 && semi < eq)) {
        pos = semi < 0 ? header.length() : semi + 1; // a parameter without a value
        continue;
      }
      String name = header.substring(pos, eq).trim().toLowerCase(Locale.ROOT);
      pos = eq + 1;
      while (pos < header.length() && header.charAt(pos) == ' ') {
        pos++;
      }
      StringBuilder text = new StringBuilder();
      if (pos < header.length() && header.charAt(pos) == '"') {
        pos++;
        while (pos < header.length() && header.charAt(pos) != '"') {
          char c = header.charAt(pos);
          if (c == '\\' && pos + 1 < header.length()) {
            pos++;
            c = header.charAt(pos);
          }
          text.append(c);
          pos++;
        }
        pos++; // the closing quote
        int next = header.indexOf(';', Math.min(pos, header.length()));
        pos = next < 0 ? header.length() : next + 1;
      } else {
        int end = header.indexOf(';', pos);
        end = end < 0 ? header.length() : end;
        text.append(header, pos, end);
        pos = end + 1;
      }
      if (name.endsWith("*")) {
        String decoded = decodeExtended(text.toString().trim());
        if (decoded != null) {
          extended.put(name.substring(0, name.length() - 1), decoded);
        }
      } else if (!name.isEmpty()) {
        plain.putIfAbsent(name, name.equals("filename") ? text.toString() : text.toString().trim());
      }
    }
    plain.putAll(extended);
    return new HeaderParameters(value, plain);
  }

  /** {@code charset'language'percent-encoded}; null when malformed. */
  private static @Nullable String decodeExtended(String text) {
    int first = text.indexOf('\'');
    int second = first < 0 ? -1 : text.indexOf('\'', first + 1);
    if (second < 0) {
      return null;
    }
    try {
      Charset charset =
          first == 0 ? StandardCharsets.UTF_8 : Charset.forName(text.substring(0, first));
      return URLDecoder.decode(text.substring(second + 1).replace("+", "%2B"), charset);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
