package dev.sbx.proxy.forward;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * How a {@link ForwardingProxy} listens and dials.
 *
 * @param host the address to listen on
 * @param port the port to listen on (0 picks a free one)
 * @param idleTimeout a connection without traffic for this long is closed
 * @param dialAttempts connection attempts to the upstream before the route's dial failure answer
 * @param dialBackoffStep the wait after attempt n is n times this
 * @param connectTimeout how long one connection attempt may take
 * @param maxConnectionsPerUpstream pooled keep-alive connections per upstream host and port
 * @param forwardedHeaders whether to set {@code X-Forwarded-For}, {@code -Proto} and {@code -Host}
 *     (replacing what the client sent)
 * @param tls TLS for the listener, or {@code null} for plain HTTP
 * @param maxConnectionsPerSandbox exchanges (requests in progress, open WebSocket tunnels) one
 *     sandbox may have through this proxy at once; one more gets 429 (E2B's per-sandbox connection
 *     limit); {@link #UNLIMITED} for no limit
 */
public record ForwardingSettings(
    String host,
    int port,
    Duration idleTimeout,
    int dialAttempts,
    Duration dialBackoffStep,
    Duration connectTimeout,
    int maxConnectionsPerUpstream,
    boolean forwardedHeaders,
    @Nullable ServerTls tls,
    int maxConnectionsPerSandbox) {

  /** No per-sandbox connection limit. */
  public static final int UNLIMITED = -1;

  /** Settings without a per-sandbox connection limit. */
  public ForwardingSettings(
      String host,
      int port,
      Duration idleTimeout,
      int dialAttempts,
      Duration dialBackoffStep,
      Duration connectTimeout,
      int maxConnectionsPerUpstream,
      boolean forwardedHeaders,
      @Nullable ServerTls tls) {
    this(
        host,
        port,
        idleTimeout,
        dialAttempts,
        dialBackoffStep,
        connectTimeout,
        maxConnectionsPerUpstream,
        forwardedHeaders,
        tls,
        UNLIMITED);
  }

  /** Checks the values. */
  public ForwardingSettings {
    requireNonNull(host, "host");
    requireNonNull(idleTimeout, "idleTimeout");
    requireNonNull(dialBackoffStep, "dialBackoffStep");
    requireNonNull(connectTimeout, "connectTimeout");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
    if (dialAttempts < 1) {
      throw new IllegalArgumentException("dialAttempts must be at least 1");
    }
    if (maxConnectionsPerUpstream < 1) {
      throw new IllegalArgumentException("maxConnectionsPerUpstream must be at least 1");
    }
    if (maxConnectionsPerSandbox != UNLIMITED && maxConnectionsPerSandbox < 1) {
      throw new IllegalArgumentException(
          "maxConnectionsPerSandbox must be -1 (unlimited) or at least 1: "
              + maxConnectionsPerSandbox);
    }
  }

  /** These settings with {@code attempts} dials, {@code step} times n apart, per request. */
  public ForwardingSettings withDials(int attempts, Duration step) {
    return new ForwardingSettings(
        host,
        port,
        idleTimeout,
        attempts,
        step,
        connectTimeout,
        maxConnectionsPerUpstream,
        forwardedHeaders,
        tls,
        maxConnectionsPerSandbox);
  }

  /** These settings with at most {@code limit} exchanges per sandbox ({@link #UNLIMITED}: none). */
  public ForwardingSettings withMaxConnectionsPerSandbox(int limit) {
    return new ForwardingSettings(
        host,
        port,
        idleTimeout,
        dialAttempts,
        dialBackoffStep,
        connectTimeout,
        maxConnectionsPerUpstream,
        forwardedHeaders,
        tls,
        limit);
  }
}
