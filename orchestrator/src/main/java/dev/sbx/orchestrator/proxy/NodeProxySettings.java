package dev.sbx.orchestrator.proxy;

import static java.util.Objects.requireNonNull;

import dev.sbx.proxy.forward.ForwardingSettings;
import java.time.Duration;

/**
 * How the node proxy listens and dials.
 *
 * @param host the address to listen on
 * @param port the port to listen on (5007; 0 picks a free one)
 * @param idleTimeout a connection without traffic for this long is closed (620 s)
 * @param dialAttempts connection attempts to a sandbox port before "port is not open" (5)
 * @param dialBackoffStep the wait after attempt n is n times this (100 ms: 100, 200, 300, 400 ms)
 * @param connectTimeout how long one connection attempt may take
 * @param maxConnectionsPerUpstream pooled keep-alive connections per sandbox address and port
 * @param maxConnectionsPerSandbox exchanges (requests in progress, open WebSocket tunnels) one
 *     sandbox may have through this node proxy at once; one more gets E2B's 429; {@link
 *     ForwardingSettings#UNLIMITED} (-1, the default, as E2B's feature flag defaults to) for no
 *     limit
 */
public record NodeProxySettings(
    String host,
    int port,
    Duration idleTimeout,
    int dialAttempts,
    Duration dialBackoffStep,
    Duration connectTimeout,
    int maxConnectionsPerUpstream,
    int maxConnectionsPerSandbox) {

  /** Settings without a per-sandbox connection limit. */
  public NodeProxySettings(
      String host,
      int port,
      Duration idleTimeout,
      int dialAttempts,
      Duration dialBackoffStep,
      Duration connectTimeout,
      int maxConnectionsPerUpstream) {
    this(
        host,
        port,
        idleTimeout,
        dialAttempts,
        dialBackoffStep,
        connectTimeout,
        maxConnectionsPerUpstream,
        ForwardingSettings.UNLIMITED);
  }

  /** The node proxy's port in the E2B layout. */
  public static final int DEFAULT_PORT = 5007;

  /** Checks the values. */
  public NodeProxySettings {
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
    if (maxConnectionsPerSandbox != ForwardingSettings.UNLIMITED && maxConnectionsPerSandbox < 1) {
      throw new IllegalArgumentException(
          "maxConnectionsPerSandbox must be -1 (unlimited) or at least 1: "
              + maxConnectionsPerSandbox);
    }
  }

  /** The E2B defaults on {@code host}:{@code port} (no per-sandbox connection limit). */
  public static NodeProxySettings defaults(String host, int port) {
    return new NodeProxySettings(
        host,
        port,
        Duration.ofSeconds(620),
        5,
        Duration.ofMillis(100),
        Duration.ofSeconds(2),
        1024);
  }

  /** These settings with at most {@code limit} exchanges per sandbox ({@code -1}: no limit). */
  public NodeProxySettings withMaxConnectionsPerSandbox(int limit) {
    return new NodeProxySettings(
        host,
        port,
        idleTimeout,
        dialAttempts,
        dialBackoffStep,
        connectTimeout,
        maxConnectionsPerUpstream,
        limit);
  }

  /** The forwarding engine's settings these make (no {@code X-Forwarded-*}, plain HTTP). */
  ForwardingSettings forwarding() {
    return new ForwardingSettings(
        host,
        port,
        idleTimeout,
        dialAttempts,
        dialBackoffStep,
        connectTimeout,
        maxConnectionsPerUpstream,
        false,
        null,
        maxConnectionsPerSandbox);
  }
}
