package dev.sbx.api.store;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** E2B's API key format: {@code e2b_} and 40 hex digits (20 random bytes); stored as a hash. */
public final class ApiKeys {
  public static final String PREFIX = "e2b_";
  private static final Pattern FORMAT = Pattern.compile("e2b_[0-9a-f]{40}");
  private static final SecureRandom RANDOM = new SecureRandom();

  private ApiKeys() {}

  /** A new random key. */
  public static String generate() {
    byte[] bytes = new byte[20];
    RANDOM.nextBytes(bytes);
    return PREFIX + HexFormat.of().formatHex(bytes);
  }

  /** Whether {@code key} has the format of a key this server issues. */
  public static boolean wellFormed(String key) {
    return FORMAT.matcher(key).matches();
  }

  /** Lowercase hex SHA-256 of the whole key: what the store keeps and looks keys up by. */
  public static String hash(String key) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }

  /** {@code e2b_} and the first 2 and last 4 hex digits, e.g. {@code e2b_12…cdef}. */
  public static String mask(String key) {
    String body = key.startsWith(PREFIX) ? key.substring(PREFIX.length()) : key;
    if (body.length() < 8) {
      return PREFIX + "…";
    }
    return PREFIX + body.substring(0, 2) + "…" + body.substring(body.length() - 4);
  }
}
