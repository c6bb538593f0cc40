package dev.sbx.proxy;

import static java.util.Objects.requireNonNull;

import dev.sbx.proxy.forward.ForwardingSettings;
import dev.sbx.proxy.forward.ServerTls;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * How the client proxy listens and dials.
 *
 * @param host the address both listeners bind
 * @param port the proxy's port (3002; 0 picks a free one)
 * @param healthPort the port of {@code GET /health} and {@code GET /metrics} (3003; 0 picks a free
 *     one)
 * @param idleTimeout a connection without traffic for this long is closed (610 s)
 * @param connectTimeout how long the one connection attempt to a node proxy may take
 * @param maxConnectionsPerNode pooled keep-alive connections per node proxy
 * @param perSandboxMetrics whether metrics carry a {@code sandbox} tag with the sandbox id (one
 *     series per sandbox; off: {@code sandbox="all"})
 * @param tls TLS for the proxy's port (for example a wildcard certificate), or {@code null}
 * @param maxConnectionsPerSandbox exchanges (requests in progress, open WebSocket tunnels) one
 *     sandbox may have through this proxy at once; one more gets E2B's 429 {@code "The sandbox has
 *     too many concurrent incoming connections"}; {@link ForwardingSettings#UNLIMITED} (-1, the
 *     default, as in E2B) for no limit
 */
public record ClientProxySettings(
    String host,
    int port,
    int healthPort,
    Duration idleTimeout,
    Duration connectTimeout,
    int maxConnectionsPerNode,
    boolean perSandboxMetrics,
    @Nullable ServerTls tls,
    int maxConnectionsPerSandbox) {

  /** Settings without a per-sandbox connection limit. */
  public ClientProxySettings(
      String host,
      int port,
      int healthPort,
      Duration idleTimeout,
      Duration connectTimeout,
      int maxConnectionsPerNode,
      boolean perSandboxMetrics,
      @Nullable ServerTls tls) {
    this(
        host,
        port,
        healthPort,
        idleTimeout,
        connectTimeout,
        maxConnectionsPerNode,
        perSandboxMetrics,
        tls,
        ForwardingSettings.UNLIMITED);
  }

  /** The client proxy's port in the E2B layout. */
  public static final int DEFAULT_PORT = 3002;

  /** The health port in the E2B layout. */
  public static final int DEFAULT_HEALTH_PORT = 3003;

  /** Checks the values. */
  public ClientProxySettings {
    requireNonNull(host, "host");
    requireNonNull(idleTimeout, "idleTimeout");
    requireNonNull(connectTimeout, "connectTimeout");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
    if (healthPort < 0 || healthPort > 65535) {
      throw new IllegalArgumentException("healthPort out of range: " + healthPort);
    }
    if (port != 0 && port == healthPort) {
      throw new IllegalArgumentException("port and healthPort must differ: " + port);
    }
    if (maxConnectionsPerNode < 1) {
      throw new IllegalArgumentException("maxConnectionsPerNode must be at least 1");
    }
    if (maxConnectionsPerSandbox != ForwardingSettings.UNLIMITED && maxConnectionsPerSandbox < 1) {
      throw new IllegalArgumentException(
          "maxConnectionsPerSandbox must be -1 (unlimited) or at least 1: "
              + maxConnectionsPerSandbox);
    }
  }

  /**
   * The E2B defaults (610 s idle, 2 s connect, 1024 connections per node, per-sandbox metrics, no
   * per-sandbox connection limit).
   */
  public static ClientProxySettings defaults(String host, int port, int healthPort) {
    return new ClientProxySettings(
        host, port, healthPort, Duration.ofSeconds(610), Duration.ofSeconds(2), 1024, true, null);
  }

  /** These settings with TLS on the proxy's port. */
  public ClientProxySettings withTls(ServerTls tls) {
    requireNonNull(tls, "tls");
    return new ClientProxySettings(
        host,
        port,
        healthPort,
        idleTimeout,
        connectTimeout,
        maxConnectionsPerNode,
        perSandboxMetrics,
        tls,
        maxConnectionsPerSandbox);
  }

  /**
   * These settings with at most {@code limit} exchanges per sandbox at once ({@link
   * ForwardingSettings#UNLIMITED}: no limit).
   */
  public ClientProxySettings withMaxConnectionsPerSandbox(int limit) {
    return new ClientProxySettings(
        host,
        port,
        healthPort,
        idleTimeout,
        connectTimeout,
        maxConnectionsPerNode,
        perSandboxMetrics,
        tls,
        limit);
  }

  /** The settings of the forwarding engine that these settings make. */
  ForwardingSettings forwarding() {
    return new ForwardingSettings(
        host,
        port,
        idleTimeout,
        1,
        Duration.ZERO,
        connectTimeout,
        maxConnectionsPerNode,
        true,
        tls,
        maxConnectionsPerSandbox);
  }
}
