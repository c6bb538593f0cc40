package dev.sbx.cli.server;

import dev.sbx.orchestrator.Orchestrator;
import java.net.InetAddress;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code sbx orchestrator}: this host's orchestrator alone (one per node of a cluster). */
@Command(
    name = "orchestrator",
    mixinStandardHelpOptions = true,
    description = "Run this host's orchestrator alone (gRPC and node proxy).")
public final class OrchestratorCommand implements Callable<Integer> {

  @Option(
      names = "--bind",
      defaultValue = "${env:SBX_BIND:-0.0.0.0}",
      description =
          "Listen address of gRPC and the node proxy (env SBX_BIND; default ${DEFAULT-VALUE}).")
  String bind = "0.0.0.0";

  @Mixin OrchestratorOptions orchestrator = new OrchestratorOptions();

  @Override
  public Integer call() throws InterruptedException {
    Orchestrator node = Orchestrator.start(orchestrator.config(InetAddress.ofLiteral(bind)));
    Services.runUntilStopped(node::close);
    return 0;
  }
}
