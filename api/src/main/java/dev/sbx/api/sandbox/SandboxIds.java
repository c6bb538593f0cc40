package dev.sbx.api.sandbox;

import dev.sbx.api.http.ApiException;
import java.security.SecureRandom;
import java.util.regex.Pattern;

/** Sandbox ids: {@code i} and 20 characters of {@code [a-z0-9]} (E2B's form). */
public final class SandboxIds {
  private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
  private static final Pattern VALID = Pattern.compile("^[a-z0-9]+$");
  private static final SecureRandom RANDOM = new SecureRandom();

  private SandboxIds() {}

  public static String generate() {
    StringBuilder id = new StringBuilder("i");
    for (int i = 0; i < 20; i++) {
      id.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    return id.toString();
  }

  /**
   * The sandbox id of a path parameter: {@code <id>} or the legacy {@code <id>-<clientID>}; 400
   * {@code Invalid sandbox ID} otherwise.
   */
  public static String fromPath(String value) {
    String[] parts = value.split("-", -1);
    if (parts.length > 2 || !VALID.matcher(parts[0]).matches()) {
      throw ApiException.badRequest("Invalid sandbox ID");
    }
    return parts[0];
  }
}
