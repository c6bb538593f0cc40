package dev.sbx.cli.server;

import dev.sbx.api.ApiConfig;
import dev.sbx.api.ApiServer;
import dev.sbx.api.node.NodeAddress;
import dev.sbx.proxy.catalog.Catalog;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sbx api}: the API server alone, for a cluster (PostgreSQL, Redis, remote nodes). */
@Command(
    name = "api",
    mixinStandardHelpOptions = true,
    description = "Run the API server alone (a cluster's control plane).")
public final class ApiCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--bind",
      defaultValue = "${env:SBX_BIND:-0.0.0.0}",
      description = "Listen address (env SBX_BIND; default ${DEFAULT-VALUE}).")
  String bind = "0.0.0.0";

  @Option(
      names = "--port",
      defaultValue = "${env:SBX_API_PORT:-3000}",
      description = "Port (env SBX_API_PORT; default ${DEFAULT-VALUE}).")
  int port = 3000;

  @Option(
      names = "--node",
      split = ",",
      defaultValue = "${env:SBX_NODES}",
      description =
          "An orchestrator as id=host:grpcPort[:nodeProxyPort], repeatable or comma-separated"
              + " (env SBX_NODES); the node proxy port defaults to 5007.")
  List<String> nodes = new ArrayList<>();

  @Option(
      names = "--domain",
      defaultValue = "${env:SBX_DOMAIN}",
      description = "Sandbox domain returned to SDKs (env SBX_DOMAIN).")
  @Nullable String domain;

  @Option(
      names = "--admin-token",
      defaultValue = "${env:SBX_ADMIN_TOKEN}",
      description = "Operator token for X-Admin-Token (env SBX_ADMIN_TOKEN).")
  @Nullable String adminToken;

  @Option(
      names = "--node-ttl",
      defaultValue = "${env:SBX_NODE_TTL:-15}",
      description =
          "Seconds a node that registered itself (sbx orchestrator --register-with) may go without"
              + " registering again before it is dropped with its sandboxes (env SBX_NODE_TTL;"
              + " default ${DEFAULT-VALUE}, 3x the orchestrators' default interval).")
  int nodeTtl = 15;

  @Mixin StoreOptions store = new StoreOptions();

  @Mixin CatalogOptions catalog = new CatalogOptions();

  @SuppressWarnings("NullAway.Init")
  public ApiCommand() {}

  @Override
  public Integer call() throws InterruptedException {
    if (nodeTtl < 1) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--node-ttl must be at least 1 second");
    }
    List<NodeAddress> addresses = nodes.stream().map(ApiCommand::parseNode).toList();
    Catalog routes = catalog.open();
    ApiConfig config =
        ApiConfig.defaults(store.dataDir(), addresses, TokenKey.load(store.dataDir()))
            .withHost(bind)
            .withPort(port)
            .withDomain(domain)
            .withPostgres(store.postgres())
            .withAdminToken(adminToken)
            .withNodeTtl(java.time.Duration.ofSeconds(nodeTtl));
    ApiServer api;
    try {
      api = ApiServer.start(config, routes);
    } catch (RuntimeException e) {
      routes.close();
      throw e;
    }
    api.firstApiKey()
        .ifPresent(
            key -> spec.commandLine().getOut().println("First API key (shown once): " + key));
    spec.commandLine().getOut().flush();
    Services.runUntilStopped(
        () -> {
          api.close();
          routes.close();
        });
    return 0;
  }

  /** {@code id=host:grpcPort[:nodeProxyPort]}. */
  static NodeAddress parseNode(String spec) {
    int eq = spec.indexOf('=');
    if (eq < 1) {
      throw new IllegalArgumentException(
          "--node " + spec + ": expected id=host:grpcPort[:proxyPort]");
    }
    String id = spec.substring(0, eq);
    String[] parts = spec.substring(eq + 1).split(":");
    if (parts.length < 2 || parts.length > 3) {
      throw new IllegalArgumentException(
          "--node " + spec + ": expected id=host:grpcPort[:proxyPort]");
    }
    int grpcPort = Integer.parseInt(parts[1]);
    int proxyPort = parts.length == 3 ? Integer.parseInt(parts[2]) : 5007;
    return new NodeAddress(id, parts[0] + ":" + grpcPort, parts[0], proxyPort);
  }
}
