package dev.sbx.sdk.internal;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/** The two URL encodings E2B's JS SDK uses. */
public final class UrlEncoding {
  private static final String UNRESERVED_COMPONENT =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()";

  private UrlEncoding() {}

  /** {@code URLSearchParams} form encoding: space becomes {@code +}. */
  public static String form(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  /** JavaScript's {@code encodeURIComponent}. */
  public static String component(String value) {
    StringBuilder out = new StringBuilder();
    for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xFF);
      if (c < 0x80 && UNRESERVED_COMPONENT.indexOf(c) >= 0) {
        out.append(c);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xF, 16)));
        out.append(Character.toUpperCase(Character.forDigit(b & 0xF, 16)));
      }
    }
    return out.toString();
  }
}
