package dev.sbx.api.auth;

import dev.sbx.api.http.ApiException;
import dev.sbx.api.store.ApiKeys;
import dev.sbx.api.store.KeyOwner;
import dev.sbx.api.store.Store;
import dev.sbx.api.store.Team;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.jspecify.annotations.Nullable;

/**
 * Resolves a request's credentials to a {@link Caller}: {@code X-API-Key} (E2B's {@code
 * ApiKeyAuth}), or {@code X-Admin-Token} with {@code X-Team-ID} (the operator). Failures are E2B's
 * 401.
 */
public final class Authenticator {
  /** E2B's text for a missing or wrong key; a line with the detail follows it. */
  public static final String INVALID_KEY =
      "Invalid API key, please visit https://e2b.dev/docs/api-key for more information.";

  private static final Duration TOUCH_INTERVAL = Duration.ofMinutes(1);

  private final Store store;
  private final @Nullable String adminToken;
  private final ConcurrentMap<String, Instant> lastTouched = new ConcurrentHashMap<>();

  public Authenticator(Store store, @Nullable String adminToken) {
    this.store = store;
    this.adminToken = adminToken;
  }

  /** Blocks (store lookups). */
  public Caller authenticate(
      @Nullable String apiKey, @Nullable String admin, @Nullable String teamId) {
    if (apiKey != null) {
      return byKey(apiKey.trim());
    }
    if (admin != null) {
      return byAdminToken(admin, teamId);
    }
    throw new ApiException(401, INVALID_KEY + "\nmissing the X-API-Key header");
  }

  private Caller byKey(String key) {
    if (!key.startsWith(ApiKeys.PREFIX)) {
      throw new ApiException(
          401, INVALID_KEY + "\nthe API key must start with '" + ApiKeys.PREFIX + "'");
    }
    Optional<KeyOwner> owner =
        ApiKeys.wellFormed(key) ? store.findKey(ApiKeys.hash(key)) : Optional.empty();
    if (owner.isEmpty()) {
      throw new ApiException(401, INVALID_KEY + "\ninvalid or revoked API key");
    }
    String keyId = owner.get().key().id();
    Instant now = Instant.now();
    Instant touched = lastTouched.get(keyId);
    if (touched == null || touched.plus(TOUCH_INTERVAL).isBefore(now)) {
      lastTouched.put(keyId, now);
      store.touchKey(keyId, now);
    }
    return new Caller(owner.get().team(), keyId);
  }

  private Caller byAdminToken(String token, @Nullable String teamId) {
    String expected = adminToken;
    if (expected == null
        || !MessageDigest.isEqual(
            expected.getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8))) {
      throw new ApiException(401, "Invalid admin token");
    }
    if (teamId == null || teamId.isBlank()) {
      throw new ApiException(401, "The admin token needs the X-Team-ID header");
    }
    Team team =
        store
            .team(teamId.trim())
            .orElseThrow(() -> new ApiException(401, "Team '" + teamId.trim() + "' not found"));
    return new Caller(team, "admin");
  }

  /** Whether {@code token} is the operator's admin token (for operator-only endpoints). */
  public boolean isAdmin(@Nullable String token) {
    String expected = adminToken;
    return expected != null
        && token != null
        && MessageDigest.isEqual(
            expected.getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8));
  }
}
