package dev.sbx.api.node;

import java.util.Objects;

/**
 * A configured orchestrator.
 *
 * @param id a name for the node (unique)
 * @param grpcTarget {@code host:port} of its gRPC API (:5008)
 * @param proxyHost host of its node proxy (:5007)
 * @param proxyPort port of its node proxy
 */
public record NodeAddress(String id, String grpcTarget, String proxyHost, int proxyPort) {
  public NodeAddress {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(grpcTarget, "grpcTarget");
    Objects.requireNonNull(proxyHost, "proxyHost");
    if (proxyPort < 1 || proxyPort > 65535) {
      throw new IllegalArgumentException("proxyPort out of range: " + proxyPort);
    }
  }
}
