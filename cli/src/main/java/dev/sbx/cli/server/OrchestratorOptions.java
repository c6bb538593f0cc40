package dev.sbx.cli.server;

import dev.sbx.cli.sandbox.DurationConverter;
import dev.sbx.orchestrator.OrchestratorConfig;
import dev.sbx.orchestrator.OrchestratorConfig.RuntimeKind;
import dev.sbx.orchestrator.lifecycle.LifecycleSettings;
import dev.sbx.orchestrator.lifecycle.WarmPoolSettings;
import dev.sbx.orchestrator.runtime.RunscSettings;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/** How the orchestrator of this host runs. */
public final class OrchestratorOptions {

  @Option(
      names = "--grpc-port",
      defaultValue = "${env:SBX_GRPC_PORT:-5008}",
      description = "Orchestrator gRPC port (env SBX_GRPC_PORT; default ${DEFAULT-VALUE}).")
  int grpcPort = OrchestratorConfig.DEFAULT_GRPC_PORT;

  @Option(
      names = "--node-proxy-port",
      defaultValue = "${env:SBX_NODE_PROXY_PORT:-5007}",
      description = "Node proxy port (env SBX_NODE_PROXY_PORT; default ${DEFAULT-VALUE}).")
  int nodeProxyPort = 5007;

  @Option(
      names = "--runtime",
      defaultValue = "${env:SBX_RUNTIME:-runc}",
      description =
          "OCI runtime of the sandboxes: runc or runsc (env SBX_RUNTIME; default ${DEFAULT-VALUE}).")
  String runtime = "runc";

  @Option(
      names = "--templates",
      defaultValue = "${env:SBX_TEMPLATES:-/var/lib/sbx/templates}",
      description = "Template directory (env SBX_TEMPLATES; default ${DEFAULT-VALUE}).")
  Path templates = Path.of("/var/lib/sbx/templates");

  @Option(
      names = "--envd-dist",
      defaultValue = "${env:SBX_ENVD_DIST:-/opt/sbx}",
      description =
          "envd's directory, mounted read-only into every sandbox (env SBX_ENVD_DIST; default ${DEFAULT-VALUE}).")
  Path envdDist = Path.of("/opt/sbx");

  @Option(
      names = "--warm-pool",
      defaultValue = "${env:SBX_WARM_POOL:-2}",
      description =
          "Started sandboxes kept ready per template (env SBX_WARM_POOL; default ${DEFAULT-VALUE}).")
  int warmPool;

  @Option(
      names = "--warm-pool-refill-delay",
      defaultValue = "${env:SBX_WARM_POOL_REFILL_DELAY:-2s}",
      converter = DurationConverter.class,
      description =
          "How long after a claim that leaves a warm sandbox waiting its replacement starts, so that"
              + " it does not slow the new sandbox's first commands; a claim that empties the pool"
              + " is replaced at once (env SBX_WARM_POOL_REFILL_DELAY; default ${DEFAULT-VALUE}).")
  Duration warmPoolRefillDelay = WarmPoolSettings.DEFAULT_REFILL_DELAY;

  @Option(
      names = "--max-sandboxes",
      defaultValue = "${env:SBX_MAX_SANDBOXES:-100}",
      description =
          "Most sandboxes on this host (env SBX_MAX_SANDBOXES; default ${DEFAULT-VALUE}).")
  int maxSandboxes = 100;

  @Option(
      names = "--keep-sandboxes-on-stop",
      defaultValue = "${env:SBX_KEEP_SANDBOXES_ON_STOP:-false}",
      description =
          "Leave sandboxes running on a clean stop for the next start to adopt (env SBX_KEEP_SANDBOXES_ON_STOP).")
  boolean keepSandboxesOnStop;

  /** The orchestrator's configuration, listening on {@code bind}. */
  public OrchestratorConfig config(InetAddress bind) {
    OrchestratorConfig defaults = OrchestratorConfig.defaults();
    OrchestratorConfig config =
        new OrchestratorConfig(
                bind,
                grpcPort,
                templates,
                defaults.runc(),
                defaults.network(),
                LifecycleSettings.of(envdDist)
                    .withMaxSandboxes(maxSandboxes)
                    .withWarmPool(
                        warmPool > 0
                            ? WarmPoolSettings.ofSize(warmPool).withRefillDelay(warmPoolRefillDelay)
                            : WarmPoolSettings.OFF))
            .withNodeProxy(bind.getHostAddress(), nodeProxyPort)
            .withKeepSandboxesOnStop(keepSandboxesOnStop);
    return switch (RuntimeKind.parse(runtime)) {
      case RUNC -> config;
      case RUNSC -> config.withRunsc(RunscSettings.defaults());
    };
  }
}
