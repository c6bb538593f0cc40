package dev.sbx.api.store;

/** A valid (not revoked) API key and the team it belongs to. */
public record KeyOwner(ApiKey key, Team team) {}
