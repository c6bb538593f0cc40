package dev.sbx.cli.server;

import dev.sbx.orchestrator.Orchestrator;
import dev.sbx.orchestrator.registration.NodeRegistration;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code sbx orchestrator}: this host's orchestrator alone (one per node of a cluster). */
@Command(
    name = "orchestrator",
    mixinStandardHelpOptions = true,
    description = "Run this host's orchestrator alone (gRPC and node proxy).")
public final class OrchestratorCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--bind",
      defaultValue = "${env:SBX_BIND:-0.0.0.0}",
      description =
          "Listen address of gRPC and the node proxy (env SBX_BIND; default ${DEFAULT-VALUE}).")
  String bind = "0.0.0.0";

  @Option(
      names = "--register-with",
      defaultValue = "${env:SBX_REGISTER_WITH}",
      description =
          "API server URL to register this node with (POST /admin/nodes at start and every"
              + " --register-interval; env SBX_REGISTER_WITH). Needs --admin-token.")
  @Nullable String registerWith;

  @Option(
      names = "--admin-token",
      defaultValue = "${env:SBX_ADMIN_TOKEN}",
      description = "The API's X-Admin-Token, for --register-with (env SBX_ADMIN_TOKEN).")
  @Nullable String adminToken;

  @Option(
      names = "--node-id",
      defaultValue = "${env:SBX_NODE_ID}",
      description = "This node's id when registering (env SBX_NODE_ID; default the host name).")
  @Nullable String nodeId;

  @Option(
      names = "--advertise-host",
      defaultValue = "${env:SBX_ADVERTISE_HOST}",
      description =
          "Host or IP the API and client proxies reach this node at, when registering (env"
              + " SBX_ADVERTISE_HOST, e.g. the pod IP; default --bind, or this host's address"
              + " when --bind is a wildcard).")
  @Nullable String advertiseHost;

  @Option(
      names = "--register-interval",
      defaultValue = "${env:SBX_REGISTER_INTERVAL:-5}",
      description =
          "Seconds between registrations, the node's heartbeat (env SBX_REGISTER_INTERVAL;"
              + " default ${DEFAULT-VALUE}; the API's --node-ttl should be about 3x this).")
  int registerInterval = 5;

  @Mixin OrchestratorOptions orchestrator = new OrchestratorOptions();

  @SuppressWarnings("NullAway.Init")
  public OrchestratorCommand() {}

  @Override
  public Integer call() throws InterruptedException {
    NodeRegistration.@Nullable Settings registration = registration();
    Orchestrator node = Orchestrator.start(orchestrator.config(InetAddress.ofLiteral(bind)));
    NodeRegistration registering =
        registration == null ? null : NodeRegistration.start(registration);
    Services.runUntilStopped(
        () -> {
          if (registering != null) {
            registering.close();
          }
          node.close();
        });
    return 0;
  }

  /** The registration of {@code --register-with}, or null without it. */
  NodeRegistration.@Nullable Settings registration() {
    String api = registerWith;
    if (api == null || api.isBlank()) {
      return null;
    }
    String token = adminToken;
    if (token == null || token.isBlank()) {
      throw new ParameterException(
          spec.commandLine(), "--register-with needs --admin-token (or SBX_ADMIN_TOKEN)");
    }
    if (registerInterval < 1) {
      throw new ParameterException(spec.commandLine(), "--register-interval must be at least 1");
    }
    String host = advertiseHost;
    try {
      if (host == null || host.isBlank()) {
        InetAddress bound = InetAddress.ofLiteral(bind);
        host =
            bound.isAnyLocalAddress()
                ? InetAddress.getLocalHost().getHostAddress()
                : bound.getHostAddress();
      }
      String id = nodeId;
      if (id == null || id.isBlank()) {
        id = InetAddress.getLocalHost().getHostName();
      }
      String h = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
      return new NodeRegistration.Settings(
          URI.create(api),
          token,
          id,
          h + ":" + orchestrator.grpcPort,
          h + ":" + orchestrator.nodeProxyPort,
          Duration.ofSeconds(registerInterval));
    } catch (UnknownHostException e) {
      throw new ParameterException(
          spec.commandLine(),
          "cannot find this host's name or address ("
              + e.getMessage()
              + "): set --node-id and"
              + " --advertise-host");
    } catch (IllegalArgumentException e) {
      throw new ParameterException(
          spec.commandLine(), "--register-with " + api + ": " + e.getMessage());
    }
  }
}
