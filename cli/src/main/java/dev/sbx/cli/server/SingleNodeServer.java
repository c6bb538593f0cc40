package dev.sbx.cli.server;

import dev.sbx.api.ApiConfig;
import dev.sbx.api.ApiServer;
import dev.sbx.api.node.NodeAddress;
import dev.sbx.orchestrator.Orchestrator;
import dev.sbx.orchestrator.OrchestratorConfig;
import dev.sbx.proxy.ClientProxy;
import dev.sbx.proxy.ClientProxySettings;
import dev.sbx.proxy.catalog.InMemoryCatalog;
import dev.sbx.proxy.forward.ForwardingSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * API server, client proxy and orchestrator in one JVM, sharing an in-memory catalog: what {@code
 * sbx up} runs, and what the platform's integration tests start. The API calls the orchestrator
 * in-process ({@link Orchestrator#localChannel}), and the client proxy forwards to the sandboxes
 * itself ({@link Orchestrator#localNode}); the gRPC port and the node proxy still serve other
 * clients.
 */
public final class SingleNodeServer implements AutoCloseable {

  /**
   * @param bindHost the address every part listens on (the API, the proxy, gRPC, the node proxy)
   * @param apiPort the API's port (0: any free port)
   * @param proxyPort the client proxy's port (0: any free port)
   * @param proxyHealthPort the client proxy's health and metrics port (0: any free port)
   * @param dataDir the SQLite database and token key
   * @param postgres PostgreSQL instead of SQLite, or null
   * @param domain the sandbox domain returned to SDKs ({@code <port>-<id>.<domain>})
   * @param adminToken the operator's {@code X-Admin-Token}, or null for none
   * @param orchestrator this host's orchestrator
   * @param proxyMaxConnectionsPerSandbox the client proxy's per-sandbox connection limit (-1: none)
   */
  public record Settings(
      String bindHost,
      int apiPort,
      int proxyPort,
      int proxyHealthPort,
      Path dataDir,
      ApiConfig.@Nullable Postgres postgres,
      String domain,
      @Nullable String adminToken,
      OrchestratorConfig orchestrator,
      int proxyMaxConnectionsPerSandbox) {

    /** Settings without a per-sandbox connection limit in the client proxy. */
    public Settings(
        String bindHost,
        int apiPort,
        int proxyPort,
        int proxyHealthPort,
        Path dataDir,
        ApiConfig.@Nullable Postgres postgres,
        String domain,
        @Nullable String adminToken,
        OrchestratorConfig orchestrator) {
      this(
          bindHost,
          apiPort,
          proxyPort,
          proxyHealthPort,
          dataDir,
          postgres,
          domain,
          adminToken,
          orchestrator,
          ForwardingSettings.UNLIMITED);
    }

    public Settings {
      Objects.requireNonNull(bindHost, "bindHost");
      Objects.requireNonNull(dataDir, "dataDir");
      Objects.requireNonNull(domain, "domain");
      Objects.requireNonNull(orchestrator, "orchestrator");
    }
  }

  private final Orchestrator orchestrator;
  private final InMemoryCatalog catalog;
  private final ApiServer api;
  private final ClientProxy proxy;
  private final String bindHost;

  private SingleNodeServer(
      Orchestrator orchestrator,
      InMemoryCatalog catalog,
      ApiServer api,
      ClientProxy proxy,
      String bindHost) {
    this.orchestrator = orchestrator;
    this.catalog = catalog;
    this.api = api;
    this.proxy = proxy;
    this.bindHost = bindHost;
  }

  /** How long {@link #start} waits for the API to see its node once. */
  static final Duration NODE_SEEN_TIMEOUT = Duration.ofMinutes(2);

  private static final Duration NODE_CHECK_RETRY = Duration.ofMillis(100);

  /**
   * Starts the orchestrator, then the API (which checks the node once), then the proxy; returns
   * only once the API has seen the node and registered its templates (checked again every 100 ms
   * when the first check missed its deadline, as it can on a busy host), so that a create right
   * after the start finds its template.
   *
   * @throws IllegalStateException if the API does not see the node within two minutes
   */
  public static SingleNodeServer start(Settings settings) {
    Orchestrator orchestrator = Orchestrator.start(settings.orchestrator());
    InMemoryCatalog catalog = new InMemoryCatalog();
    ApiServer api = null;
    try {
      String local = loopbackFor(settings.bindHost());
      NodeAddress node =
          new NodeAddress(
              "local", local + ":" + orchestrator.port(), local, orchestrator.nodeProxyPort());
      ApiConfig apiConfig =
          ApiConfig.defaults(settings.dataDir(), List.of(node), TokenKey.load(settings.dataDir()))
              .withHost(settings.bindHost())
              .withPort(settings.apiPort())
              .withDomain(settings.domain())
              .withPostgres(settings.postgres())
              .withAdminToken(settings.adminToken())
              .withChannels(address -> orchestrator.localChannel());
      api = ApiServer.start(apiConfig, catalog);
      awaitSeen(api::nodesSeen, api::checkNodes, NODE_SEEN_TIMEOUT, NODE_CHECK_RETRY);
      ClientProxy proxy =
          ClientProxy.start(
              clientProxySettings(settings),
              catalog,
              api.sandboxResumer(),
              orchestrator.localNode(local));
      return new SingleNodeServer(orchestrator, catalog, api, proxy, local);
    } catch (RuntimeException e) {
      if (api != null) {
        api.close();
      }
      catalog.close();
      orchestrator.close();
      throw e;
    }
  }

  /** The client proxy's settings of a single-node server. */
  static ClientProxySettings clientProxySettings(Settings settings) {
    return ClientProxySettings.defaults(
            settings.bindHost(), settings.proxyPort(), settings.proxyHealthPort())
        .withMaxConnectionsPerSandbox(settings.proxyMaxConnectionsPerSandbox());
  }

  /**
   * Runs {@code check} every {@code retry} until {@code seen} holds.
   *
   * @throws IllegalStateException if it does not within {@code timeout}
   */
  static void awaitSeen(BooleanSupplier seen, Runnable check, Duration timeout, Duration retry) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!seen.getAsBoolean()) {
      if (System.nanoTime() - deadline >= 0) {
        throw new IllegalStateException(
            "the API did not reach the node (its templates unknown) within " + timeout);
      }
      try {
        Thread.sleep(retry);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the node", e);
      }
      check.run();
    }
  }

  /** Where the parts of this JVM reach each other: the bind address, or loopback for "any". */
  private static String loopbackFor(String bindHost) {
    return bindHost.equals("0.0.0.0") || bindHost.equals("::") ? "127.0.0.1" : bindHost;
  }

  public String apiUrl() {
    return "http://" + bindHost + ":" + api.port();
  }

  public String proxyUrl() {
    return "http://" + bindHost + ":" + proxy.port();
  }

  public String proxyHealthUrl() {
    return "http://" + bindHost + ":" + proxy.healthPort();
  }

  /** The key made on the very first start (shown once), empty on later starts. */
  public Optional<String> firstApiKey() {
    return api.firstApiKey();
  }

  public ApiServer api() {
    return api;
  }

  public Orchestrator orchestrator() {
    return orchestrator;
  }

  /** Stops the proxy, then the API, then the orchestrator (which removes its sandboxes). */
  @Override
  public void close() {
    try {
      proxy.close();
    } finally {
      try {
        api.close();
      } finally {
        catalog.close();
        orchestrator.close();
      }
    }
  }
}
