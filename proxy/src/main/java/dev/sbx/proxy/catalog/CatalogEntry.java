package dev.sbx.proxy.catalog;

import dev.sbx.proxy.routing.EnvdControlRoutes;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Where the traffic of one sandbox goes.
 *
 * @param sandboxId the sandbox
 * @param nodeId the node (orchestrator) that runs it
 * @param nodeProxyHost host name or IP literal of that node's proxy (:5007)
 * @param nodeProxyPort that node proxy's port
 * @param trafficAccessToken the token a request must carry in {@code e2b-traffic-access-token}, or
 *     {@code null} for a sandbox open to public traffic
 * @param state whether the sandbox takes traffic now
 * @param envdAccessToken the sandbox's envd token ({@code X-Access-Token}), or {@code null} when
 *     envd is open: lets the proxy find the sandbox of a signed file URL that names none
 * @param maskRequestHost the {@code Host} a sandbox's own servers see instead of the sandbox URL's
 *     ({@code network.maskRequestHost} of the create request; {@code ${PORT}} stands for the port),
 *     or {@code null} to keep the Host; never applied to envd's port
 */
public record CatalogEntry(
    String sandboxId,
    String nodeId,
    String nodeProxyHost,
    int nodeProxyPort,
    @Nullable String trafficAccessToken,
    RouteState state,
    @Nullable String envdAccessToken,
    @Nullable String maskRequestHost) {

  /** What {@code ${PORT}} in {@link #maskRequestHost} stands for. */
  public static final String PORT_PLACEHOLDER = "${PORT}";

  /** An entry without a masked Host. */
  public CatalogEntry(
      String sandboxId,
      String nodeId,
      String nodeProxyHost,
      int nodeProxyPort,
      @Nullable String trafficAccessToken,
      RouteState state,
      @Nullable String envdAccessToken) {
    this(
        sandboxId,
        nodeId,
        nodeProxyHost,
        nodeProxyPort,
        trafficAccessToken,
        state,
        envdAccessToken,
        null);
  }

  /** An entry without an envd token. */
  public CatalogEntry(
      String sandboxId,
      String nodeId,
      String nodeProxyHost,
      int nodeProxyPort,
      @Nullable String trafficAccessToken,
      RouteState state) {
    this(sandboxId, nodeId, nodeProxyHost, nodeProxyPort, trafficAccessToken, state, null, null);
  }

  public CatalogEntry {
    Objects.requireNonNull(sandboxId, "sandboxId");
    Objects.requireNonNull(nodeId, "nodeId");
    Objects.requireNonNull(nodeProxyHost, "nodeProxyHost");
    Objects.requireNonNull(state, "state");
    if (nodeProxyPort < 1 || nodeProxyPort > 65535) {
      throw new IllegalArgumentException("nodeProxyPort out of range: " + nodeProxyPort);
    }
    if (maskRequestHost != null && maskRequestHost.isEmpty()) {
      throw new IllegalArgumentException("maskRequestHost must not be empty");
    }
  }

  /**
   * The Host a request to {@code port} of this sandbox is sent with instead of its own: {@link
   * #maskRequestHost} with {@code ${PORT}} replaced by the port, or {@code null} when there is no
   * mask or the port is envd's (49983, never masked).
   */
  public @Nullable String maskedHost(int port) {
    String mask = maskRequestHost;
    if (mask == null || port == EnvdControlRoutes.ENVD_PORT) {
      return null;
    }
    return mask.replace(PORT_PLACEHOLDER, Integer.toString(port));
  }

  /** Whether a sandbox takes traffic. */
  public enum RouteState {
    /** Running: requests are forwarded. */
    RUNNING,
    /** Being paused or resumed: requests get E2B's 409. */
    TRANSITIONING,
    /** Paused: requests get the 502 "not found" unless the sandbox resumes on traffic. */
    PAUSED
  }
}
