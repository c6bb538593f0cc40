package dev.sbx.api.store;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * An API key as stored: only its SHA-256 hash is kept, and a mask to recognise it by.
 *
 * @param mask e.g. {@code e2b_12…cdef}
 */
public record ApiKey(
    String id,
    String teamId,
    String name,
    String mask,
    Instant createdAt,
    @Nullable Instant lastUsedAt,
    @Nullable Instant revokedAt) {

  public boolean revoked() {
    return revokedAt != null;
  }
}
