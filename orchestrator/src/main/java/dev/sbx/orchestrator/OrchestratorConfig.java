package dev.sbx.orchestrator;

import static java.util.Objects.requireNonNull;

import dev.sbx.orchestrator.lifecycle.LifecycleSettings;
import dev.sbx.orchestrator.lifecycle.WarmPoolSettings;
import dev.sbx.orchestrator.network.NetworkConfig;
import dev.sbx.orchestrator.proxy.NodeProxySettings;
import dev.sbx.orchestrator.runtime.RuncSettings;
import java.net.InetAddress;
import java.nio.file.Path;

/**
 * Everything an {@link Orchestrator} needs.
 *
 * @param grpcAddress the address the gRPC server binds to
 * @param grpcPort its port (0: any free port)
 * @param templatesDir one rootfs directory per template id
 * @param nodeProxyHost the address the node proxy listens on
 * @param nodeProxyPort its port (5007; 0: any free port)
 */
public record OrchestratorConfig(
    InetAddress grpcAddress,
    int grpcPort,
    Path templatesDir,
    RuncSettings runc,
    NetworkConfig network,
    LifecycleSettings lifecycle,
    String nodeProxyHost,
    int nodeProxyPort) {

  public static final int DEFAULT_GRPC_PORT = 5008;

  public OrchestratorConfig {
    requireNonNull(grpcAddress, "grpcAddress");
    requireNonNull(templatesDir, "templatesDir");
    requireNonNull(runc, "runc");
    requireNonNull(network, "network");
    requireNonNull(lifecycle, "lifecycle");
    requireNonNull(nodeProxyHost, "nodeProxyHost");
    if (grpcPort < 0 || grpcPort > 65535) {
      throw new IllegalArgumentException("not a port: " + grpcPort);
    }
    if (nodeProxyPort < 0 || nodeProxyPort > 65535) {
      throw new IllegalArgumentException("not a port: " + nodeProxyPort);
    }
  }

  /** The node proxy on all addresses, port 5007. */
  public OrchestratorConfig(
      InetAddress grpcAddress,
      int grpcPort,
      Path templatesDir,
      RuncSettings runc,
      NetworkConfig network,
      LifecycleSettings lifecycle) {
    this(
        grpcAddress,
        grpcPort,
        templatesDir,
        runc,
        network,
        lifecycle,
        "0.0.0.0",
        NodeProxySettings.DEFAULT_PORT);
  }

  /**
   * The production layout: gRPC on all addresses, port 5008, the node proxy on all addresses, port
   * 5007, templates in {@code /var/lib/sbx/templates}, {@link RuncSettings#defaults()}, {@link
   * NetworkConfig#defaults()}, envd's dist in {@code /opt/sbx}.
   */
  public static OrchestratorConfig defaults() {
    return new OrchestratorConfig(
        InetAddress.ofLiteral("0.0.0.0"),
        DEFAULT_GRPC_PORT,
        Path.of("/var/lib/sbx/templates"),
        RuncSettings.defaults(),
        NetworkConfig.defaults(),
        LifecycleSettings.of(Path.of("/opt/sbx")));
  }

  /** Warm pools per template (a shortcut for the lifecycle settings' {@code warmPool}). */
  public OrchestratorConfig withWarmPool(WarmPoolSettings warmPool) {
    return new OrchestratorConfig(
        grpcAddress,
        grpcPort,
        templatesDir,
        runc,
        network,
        lifecycle.withWarmPool(warmPool),
        nodeProxyHost,
        nodeProxyPort);
  }

  public OrchestratorConfig withNodeProxy(String host, int port) {
    return new OrchestratorConfig(
        grpcAddress, grpcPort, templatesDir, runc, network, lifecycle, host, port);
  }
}
