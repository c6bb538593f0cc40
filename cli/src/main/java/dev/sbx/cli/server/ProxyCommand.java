package dev.sbx.cli.server;

import dev.sbx.proxy.ClientProxy;
import dev.sbx.proxy.ClientProxySettings;
import dev.sbx.proxy.catalog.Catalog;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code sbx proxy}: one client proxy of a cluster, reading the Redis catalog. */
@Command(
    name = "proxy",
    mixinStandardHelpOptions = true,
    description = "Run a client proxy alone (a cluster's data-plane edge).")
public final class ProxyCommand implements Callable<Integer> {

  @Option(
      names = "--bind",
      defaultValue = "${env:SBX_BIND:-0.0.0.0}",
      description = "Listen address (env SBX_BIND; default ${DEFAULT-VALUE}).")
  String bind = "0.0.0.0";

  @Option(
      names = "--port",
      defaultValue = "${env:SBX_PROXY_PORT:-3002}",
      description = "Port (env SBX_PROXY_PORT; default ${DEFAULT-VALUE}).")
  int port = ClientProxySettings.DEFAULT_PORT;

  @Option(
      names = "--health-port",
      defaultValue = "${env:SBX_PROXY_HEALTH_PORT:-3003}",
      description =
          "Health and metrics port (env SBX_PROXY_HEALTH_PORT; default ${DEFAULT-VALUE}).")
  int healthPort = ClientProxySettings.DEFAULT_HEALTH_PORT;

  @Mixin CatalogOptions catalog = new CatalogOptions();

  @Override
  public Integer call() throws InterruptedException {
    Catalog routes = catalog.open();
    ClientProxy proxy;
    try {
      proxy = ClientProxy.start(ClientProxySettings.defaults(bind, port, healthPort), routes);
    } catch (RuntimeException e) {
      routes.close();
      throw e;
    }
    Services.runUntilStopped(
        () -> {
          proxy.close();
          routes.close();
        });
    return 0;
  }
}
