package dev.sbx.orchestrator;

import static java.util.Objects.requireNonNull;

import dev.sbx.orchestrator.lifecycle.LifecycleSettings;
import dev.sbx.orchestrator.network.NetworkConfig;
import dev.sbx.orchestrator.runtime.RuncSettings;
import java.net.InetAddress;
import java.nio.file.Path;

/**
 * Everything an {@link Orchestrator} needs.
 *
 * @param grpcAddress the address the gRPC server binds to
 * @param grpcPort its port (0: any free port)
 * @param templatesDir one rootfs directory per template id
 */
public record OrchestratorConfig(
    InetAddress grpcAddress,
    int grpcPort,
    Path templatesDir,
    RuncSettings runc,
    NetworkConfig network,
    LifecycleSettings lifecycle) {

  public static final int DEFAULT_GRPC_PORT = 5008;

  public OrchestratorConfig {
    requireNonNull(grpcAddress, "grpcAddress");
    requireNonNull(templatesDir, "templatesDir");
    requireNonNull(runc, "runc");
    requireNonNull(network, "network");
    requireNonNull(lifecycle, "lifecycle");
    if (grpcPort < 0 || grpcPort > 65535) {
      throw new IllegalArgumentException("not a port: " + grpcPort);
    }
  }

  /**
   * The production layout: gRPC on all addresses, port 5008, templates in {@code
   * /var/lib/sbx/templates}, {@link RuncSettings#defaults()}, {@link NetworkConfig#defaults()},
   * envd's dist in {@code /opt/sbx}.
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
}
