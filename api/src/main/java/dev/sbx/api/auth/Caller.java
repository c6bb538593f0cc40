package dev.sbx.api.auth;

import dev.sbx.api.store.Team;

/**
 * Who made a request.
 *
 * @param team the team the request acts for
 * @param principal the API key id, or {@code admin} for the operator's token
 */
public record Caller(Team team, String principal) {}
