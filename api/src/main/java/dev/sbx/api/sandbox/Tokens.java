package dev.sbx.api.sandbox;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * E2B's sandbox tokens (§5.5): {@code hex(HMAC-SHA256(seed, sandboxID))} for envd and {@code
 * hex(HMAC-SHA256(seed, "sandbox-traffic-" + sandboxID))} for public traffic.
 */
public final class Tokens {
  private final byte[] seed;

  public Tokens(byte[] seed) {
    if (seed.length < 16) {
      throw new IllegalArgumentException("the token seed needs at least 16 bytes");
    }
    this.seed = seed.clone();
  }

  public String envdAccessToken(String sandboxId) {
    return hmac(sandboxId);
  }

  public String trafficAccessToken(String sandboxId) {
    return hmac("sandbox-traffic-" + sandboxId);
  }

  private String hmac(String value) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(seed, "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal(value.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is missing from this JDK", e);
    }
  }
}
