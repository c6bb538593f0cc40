package dev.sbx.cli.server;

import java.io.PrintWriter;
import java.net.InetAddress;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sbx up}: the whole single-node server in this JVM, until Ctrl-C. */
@Command(
    name = "up",
    mixinStandardHelpOptions = true,
    description = "Run API, client proxy and orchestrator of a single node in one process.")
public final class UpCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--bind",
      defaultValue = "${env:SBX_BIND:-127.0.0.1}",
      description = "Address every part listens on (env SBX_BIND; default ${DEFAULT-VALUE}).")
  String bind = "127.0.0.1";

  @Option(
      names = "--api-port",
      defaultValue = "${env:SBX_API_PORT:-3000}",
      description = "API port (env SBX_API_PORT; default ${DEFAULT-VALUE}).")
  int apiPort = 3000;

  @Option(
      names = "--proxy-port",
      defaultValue = "${env:SBX_PROXY_PORT:-3002}",
      description = "Client proxy port (env SBX_PROXY_PORT; default ${DEFAULT-VALUE}).")
  int proxyPort = 3002;

  @Option(
      names = "--proxy-health-port",
      defaultValue = "${env:SBX_PROXY_HEALTH_PORT:-3003}",
      description =
          "Client proxy health and metrics port (env SBX_PROXY_HEALTH_PORT; default ${DEFAULT-VALUE}).")
  int proxyHealthPort = 3003;

  @Option(
      names = "--proxy-max-connections-per-sandbox",
      defaultValue = "${env:SBX_PROXY_MAX_CONNECTIONS_PER_SANDBOX:--1}",
      description =
          "Requests and WebSockets one sandbox may have open through the client proxy at once; one"
              + " more gets 429 (env SBX_PROXY_MAX_CONNECTIONS_PER_SANDBOX; default"
              + " ${DEFAULT-VALUE}: unlimited).")
  int proxyMaxConnectionsPerSandbox = -1;

  @Option(
      names = "--domain",
      defaultValue = "${env:SBX_DOMAIN:-localhost}",
      description =
          "Sandbox domain: <port>-<id>.<domain> (env SBX_DOMAIN; default ${DEFAULT-VALUE}).")
  String domain = "localhost";

  @Option(
      names = "--admin-token",
      defaultValue = "${env:SBX_ADMIN_TOKEN}",
      description = "Operator token for X-Admin-Token (env SBX_ADMIN_TOKEN; default: none).")
  @Nullable String adminToken;

  @Mixin StoreOptions store = new StoreOptions();

  @Mixin OrchestratorOptions orchestrator = new OrchestratorOptions();

  // picocli sets the fields above; the constructor leaves them to it
  @SuppressWarnings("NullAway.Init")
  public UpCommand() {}

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    var settings =
        new SingleNodeServer.Settings(
            bind,
            apiPort,
            proxyPort,
            proxyHealthPort,
            store.dataDir(),
            store.postgres(),
            domain,
            adminToken,
            orchestrator.config(InetAddress.ofLiteral(bind)),
            proxyMaxConnectionsPerSandbox);
    SingleNodeServer server = SingleNodeServer.start(settings);
    printWelcome(out, server);
    Services.runUntilStopped(
        () -> {
          out.println("sbx: stopping …");
          out.flush();
          server.close();
        });
    return 0;
  }

  private void printWelcome(PrintWriter out, SingleNodeServer server) {
    out.println();
    out.println("sbx is up.");
    out.println("  API           " + server.apiUrl());
    out.println(
        "  client proxy  "
            + server.proxyUrl()
            + "   (health, metrics: "
            + server.proxyHealthUrl()
            + ")");
    out.println("  sandboxes     <port>-<sandboxId>." + domain + " through the client proxy");
    out.println();
    String key = server.firstApiKey().orElse(null);
    if (key != null) {
      out.println("First start: a team and its API key were created. The key is shown only now:");
      out.println("  " + key);
    } else {
      out.println(
          "API keys: `./sbx keys list` / `./sbx keys create` (keys are shown only when created).");
    }
    out.println();
    out.println("Point the official E2B SDKs at it:");
    out.println("  export E2B_API_URL=" + server.apiUrl());
    out.println("  export E2B_SANDBOX_URL=" + server.proxyUrl());
    out.println("  export E2B_DOMAIN=" + domain);
    out.println("  export E2B_API_KEY=" + (key != null ? key : "<your key>"));
    out.println();
    out.println("Ctrl-C stops the server and removes its sandboxes.");
    out.flush();
  }
}
