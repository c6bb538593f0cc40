package dev.sbx.api.store;

import java.time.Instant;

/**
 * A team: owns API keys, sandboxes and templates.
 *
 * @param slug the template namespace ({@code <slug>/<name>})
 */
public record Team(String id, String name, String slug, TeamLimits limits, Instant createdAt) {}
