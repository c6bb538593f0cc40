package dev.sbx.proxy.catalog;

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
 */
public record CatalogEntry(
    String sandboxId,
    String nodeId,
    String nodeProxyHost,
    int nodeProxyPort,
    @Nullable String trafficAccessToken,
    RouteState state,
    @Nullable String envdAccessToken) {

  /** An entry without an envd token. */
  public CatalogEntry(
      String sandboxId,
      String nodeId,
      String nodeProxyHost,
      int nodeProxyPort,
      @Nullable String trafficAccessToken,
      RouteState state) {
    this(sandboxId, nodeId, nodeProxyHost, nodeProxyPort, trafficAccessToken, state, null);
  }

  public CatalogEntry {
    Objects.requireNonNull(sandboxId, "sandboxId");
    Objects.requireNonNull(nodeId, "nodeId");
    Objects.requireNonNull(nodeProxyHost, "nodeProxyHost");
    Objects.requireNonNull(state, "state");
    if (nodeProxyPort < 1 || nodeProxyPort > 65535) {
      throw new IllegalArgumentException("nodeProxyPort out of range: " + nodeProxyPort);
    }
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
