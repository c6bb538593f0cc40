package dev.sbx.api.store;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * An orchestrator the API places sandboxes on.
 *
 * @param grpcAddress {@code host:port} of its gRPC API
 * @param proxyHost host of its node proxy (:5007), where the client proxy sends sandbox traffic
 * @param healthy whether its last health check succeeded
 * @param lastSeenAt when a health check last succeeded
 */
public record NodeRecord(
    String id,
    String grpcAddress,
    String proxyHost,
    int proxyPort,
    boolean healthy,
    @Nullable Instant lastSeenAt) {}
