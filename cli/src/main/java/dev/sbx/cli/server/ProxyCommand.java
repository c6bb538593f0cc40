package dev.sbx.cli.server;

import dev.sbx.proxy.ClientProxy;
import dev.sbx.proxy.ClientProxySettings;
import dev.sbx.proxy.catalog.Catalog;
import dev.sbx.proxy.forward.ForwardingSettings;
import dev.sbx.proxy.resume.HttpSandboxResumer;
import dev.sbx.proxy.resume.SandboxResumer;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
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

  @Option(
      names = "--max-connections-per-sandbox",
      defaultValue = "${env:SBX_PROXY_MAX_CONNECTIONS_PER_SANDBOX:--1}",
      description =
          "Requests and WebSockets one sandbox may have open through this proxy at once; one more"
              + " gets 429 (env SBX_PROXY_MAX_CONNECTIONS_PER_SANDBOX; default ${DEFAULT-VALUE}:"
              + " unlimited).")
  int maxConnectionsPerSandbox = ForwardingSettings.UNLIMITED;

  @Mixin CatalogOptions catalog = new CatalogOptions();

  @Option(
      names = "--api-url",
      defaultValue = "${env:SBX_API_URL}",
      description =
          "The API server that auto-resumes paused sandboxes on traffic, e.g. http://10.0.0.4:3000"
              + " (env SBX_API_URL; without it paused sandboxes get the 502 'not found').")
  @Nullable String apiUrl;

  @Option(
      names = "--admin-token",
      defaultValue = "${env:SBX_ADMIN_TOKEN}",
      description = "The API's admin token, for auto-resume (env SBX_ADMIN_TOKEN).")
  @Nullable String adminToken;

  /** The auto-resume client, or null when no API is configured. */
  @Nullable SandboxResumer resumer() {
    String url = apiUrl;
    if (url == null || url.isBlank()) {
      return null;
    }
    String token = adminToken;
    if (token == null || token.isBlank()) {
      throw new IllegalArgumentException("--api-url needs --admin-token (or SBX_ADMIN_TOKEN)");
    }
    return new HttpSandboxResumer(URI.create(url), token, Duration.ofSeconds(90));
  }

  @Override
  public Integer call() throws InterruptedException {
    SandboxResumer resumer = resumer();
    Catalog routes = catalog.open();
    ClientProxy proxy;
    try {
      proxy =
          ClientProxy.start(
              ClientProxySettings.defaults(bind, port, healthPort)
                  .withMaxConnectionsPerSandbox(maxConnectionsPerSandbox),
              routes,
              resumer);
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
