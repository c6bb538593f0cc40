package dev.sbx.api.store;

/**
 * A key just created: {@code secret} is the only time the key itself is known; it is not stored.
 */
public record CreatedApiKey(ApiKey key, String secret) {}
