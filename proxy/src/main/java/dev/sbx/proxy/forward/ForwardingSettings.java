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
    @Nullable ServerTls tls) {

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
  }
}
