package dev.sbx.envd.files;

import static java.util.Objects.requireNonNull;

import dev.sbx.envd.http.AccessTokens;
import java.util.Base64;
import org.jspecify.annotations.Nullable;

/**
 * E2B's signed file URLs: {@code "v1_" + base64(sha256("<path>:<operation>:<username>:<token>[:<
 * expiration>]"))}, standard base64 without padding; {@code path} and {@code username} exactly as
 * they appear in the query ({@code username} empty when not given), {@code expiration} in unix
 * seconds.
 */
public final class UrlSignature {
  /** What a signature permits. */
  public enum Operation {
    READ("read"),
    WRITE("write");

    private final String wireName;

    Operation(String wireName) {
      this.wireName = wireName;
    }

    public String wireName() {
      return wireName;
    }
  }

  private UrlSignature() {}

  public static String sign(
      String path,
      Operation operation,
      String username,
      String accessToken,
      @Nullable Long expiration) {
    requireNonNull(path, "path");
    requireNonNull(operation, "operation");
    requireNonNull(username, "username");
    requireNonNull(accessToken, "accessToken");
    String payload =
        path
            + ":"
            + operation.wireName()
            + ":"
            + username
            + ":"
            + accessToken
            + (expiration == null ? "" : ":" + expiration);
    return "v1_"
        + Base64.getEncoder().withoutPadding().encodeToString(AccessTokens.sha256(payload));
  }
}
