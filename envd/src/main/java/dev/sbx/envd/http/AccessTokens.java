package dev.sbx.envd.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.jspecify.annotations.Nullable;

/**
 * Compares secrets (access tokens, URL signatures) in constant time: both sides are hashed first,
 * so neither the position of the first difference nor the lengths show in the timing.
 */
public final class AccessTokens {
  /** The request header that carries the access token. */
  public static final String HEADER = "X-Access-Token";

  private AccessTokens() {}

  /** Whether {@code given} equals {@code expected}; {@code null} never matches. */
  public static boolean matches(String expected, @Nullable String given) {
    if (given == null) {
      return false;
    }
    return MessageDigest.isEqual(sha256(expected), sha256(given));
  }

  /** The SHA-256 of the UTF-8 bytes of {@code text}. */
  public static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
