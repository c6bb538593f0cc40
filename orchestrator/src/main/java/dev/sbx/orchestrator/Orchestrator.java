package dev.sbx.orchestrator;

import static java.util.Objects.requireNonNull;

import dev.sbx.orchestrator.grpc.NodeGrpcService;
import dev.sbx.orchestrator.grpc.SandboxGrpcService;
import dev.sbx.orchestrator.lifecycle.SandboxLifecycle;
import dev.sbx.orchestrator.lifecycle.SandboxRecord;
import dev.sbx.orchestrator.network.NetworkSlot;
import dev.sbx.orchestrator.network.NetworkSlotPool;
import dev.sbx.orchestrator.pause.PauseService;
import dev.sbx.orchestrator.pause.SavedStateSettings;
import dev.sbx.orchestrator.pause.SavedStateStore;
import dev.sbx.orchestrator.proxy.NodeProxy;
import dev.sbx.orchestrator.proxy.NodeProxySettings;
import dev.sbx.orchestrator.runtime.RuncRuntime;
import dev.sbx.orchestrator.runtime.RunscRuntime;
import dev.sbx.orchestrator.runtime.RuntimeSandbox;
import dev.sbx.orchestrator.runtime.SandboxRuntime;
import dev.sbx.orchestrator.runtime.SandboxState;
import dev.sbx.orchestrator.template.TemplateDirectory;
import dev.sbx.proxy.routing.LocalNode;
import io.grpc.BindableService;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One node's orchestrator: the network slot pool, the runc runtime, the sandbox lifecycle, the node
 * proxy (routing to the lifecycle's sandboxes) and the gRPC server ({@code SandboxService}, {@code
 * NodeService}), started together. The same services are also served in-process ({@link
 * #localChannel}), for an API in the same JVM.
 *
 * <p>{@link #close} stops the server (calls under way get 5 s), deletes every sandbox the node
 * created, then removes the network (slots, bridge, nftables tables). A clean stop leaves nothing
 * on the host; sandboxes do not survive it (adopting running sandboxes after a restart is not done
 * yet).
 */
public final class Orchestrator implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Orchestrator.class.getName());

  private final NetworkSlotPool network;
  private final SandboxLifecycle lifecycle;
  private final PauseService pauses;
  private final ExecutorService calls;
  private final Server server;
  private final Server inProcessServer;
  private final String inProcessName;
  private final NodeProxy proxy;
  private final NodeProxySettings proxySettings;
  private final boolean keepSandboxesOnStop;

  private Orchestrator(
      NetworkSlotPool network,
      SandboxLifecycle lifecycle,
      PauseService pauses,
      ExecutorService calls,
      Server server,
      Server inProcessServer,
      String inProcessName,
      NodeProxy proxy,
      NodeProxySettings proxySettings,
      boolean keepSandboxesOnStop) {
    this.keepSandboxesOnStop = keepSandboxesOnStop;
    this.pauses = pauses;
    this.network = network;
    this.lifecycle = lifecycle;
    this.calls = calls;
    this.server = server;
    this.inProcessServer = inProcessServer;
    this.inProcessName = inProcessName;
    this.proxy = proxy;
    this.proxySettings = proxySettings;
  }

  /**
   * Starts everything.
   *
   * @throws UncheckedIOException if the gRPC port cannot be bound
   * @throws IllegalStateException if the node proxy's port cannot be bound
   */
  public static Orchestrator start(OrchestratorConfig config) {
    requireNonNull(config, "config");
    SandboxRuntime runtime =
        switch (config.runtime()) {
          case RUNC -> new RuncRuntime(config.runc());
          case RUNSC -> new RunscRuntime(config.runsc());
        };
    Map<String, SandboxRecord> survivors = survivors(runtime);
    Set<Integer> slots = new HashSet<>();
    survivors.values().forEach(record -> slots.add(record.slotIndex()));
    NetworkSlotPool network = NetworkSlotPool.recover(config.network(), slots);
    SandboxLifecycle lifecycle;
    try {
      lifecycle =
          new SandboxLifecycle(
              runtime,
              network,
              new TemplateDirectory(config.templatesDir()),
              config.lifecycle(),
              InstantSource.system());
    } catch (RuntimeException e) {
      network.close();
      throw e;
    }
    adopt(survivors, runtime, network, lifecycle);
    PauseService pauses;
    try {
      pauses =
          new PauseService(
              lifecycle,
              SavedStateStore.open(savedStateDir(config)),
              config.savedState(),
              InstantSource.system());
    } catch (RuntimeException e) {
      stop(lifecycle, network, config.keepSandboxesOnStop());
      throw e;
    }
    lifecycle.topUpWarmPools();
    NodeProxy proxy;
    NodeProxySettings proxySettings =
        NodeProxySettings.defaults(config.nodeProxyHost(), config.nodeProxyPort());
    try {
      proxy = NodeProxy.start(proxySettings, lifecycle);
    } catch (RuntimeException e) {
      stop(lifecycle, network, config.keepSandboxesOnStop());
      throw e;
    }
    // creates block for up to the health timeout: one virtual thread per call
    ExecutorService calls = Executors.newVirtualThreadPerTaskExecutor();
    List<BindableService> services =
        List.of(
            new SandboxGrpcService(lifecycle, pauses),
            new NodeGrpcService(lifecycle, proxy::port, pauses));
    NettyServerBuilder tcp =
        NettyServerBuilder.forAddress(
                new InetSocketAddress(config.grpcAddress(), config.grpcPort()),
                InsecureServerCredentials.create())
            .executor(calls);
    // every call is unary and every caller blocks on it: the call runs on the caller's thread
    String inProcessName = "sbx-orchestrator-" + UUID.randomUUID();
    InProcessServerBuilder inProcess =
        InProcessServerBuilder.forName(inProcessName).directExecutor();
    services.forEach(
        service -> {
          tcp.addService(service);
          inProcess.addService(service);
        });
    Server server = tcp.build();
    Server inProcessServer = inProcess.build();
    try {
      server.start();
      inProcessServer.start();
    } catch (IOException | RuntimeException e) {
      server.shutdownNow();
      calls.close();
      proxy.close();
      stop(lifecycle, network, config.keepSandboxesOnStop());
      throw e instanceof IOException io
          ? new UncheckedIOException("starting the gRPC server failed", io)
          : (RuntimeException) e;
    }
    return new Orchestrator(
        network,
        lifecycle,
        pauses,
        calls,
        server,
        inProcessServer,
        inProcessName,
        proxy,
        proxySettings,
        config.keepSandboxesOnStop());
  }

  /**
   * The saved-state directory: the configured one, else {@code saved-state} next to the runtime's
   * sandboxes directory (the same filesystem: a pause renames the upper directory into it).
   */
  static Path savedStateDir(OrchestratorConfig config) {
    Path configured = config.savedState().dir();
    if (configured != null) {
      return configured;
    }
    Path sandboxes =
        config.runtime() == OrchestratorConfig.RuntimeKind.RUNC
            ? config.runc().sandboxesDir()
            : config.runsc().sandboxesDir();
    Path parent = sandboxes.getParent();
    return parent == null ? sandboxes.resolve("saved-state") : parent.resolve("saved-state");
  }

  /**
   * What a previous orchestrator left (crash recovery): every running container whose directory
   * holds a readable {@link SandboxRecord} naming it, by container id. Everything else of the
   * runtime's (containers without a record, stopped containers, directories and cgroups without a
   * container: half-made creates and warm sandboxes) is removed here.
   */
  private static Map<String, SandboxRecord> survivors(SandboxRuntime runtime) {
    Map<String, SandboxRecord> survivors = new LinkedHashMap<>();
    for (RuntimeSandbox found : runtime.list()) {
      String containerId = found.sandboxId();
      SandboxRecord record = null;
      if (found.state() == SandboxState.RUNNING) {
        try {
          record =
              SandboxRecord.read(SandboxLifecycle.sandboxDir(runtime, containerId)).orElse(null);
        } catch (RuntimeException e) {
          LOG.log(System.Logger.Level.WARNING, "unreadable record of " + containerId, e);
        }
      }
      if (record != null && record.containerId().equals(containerId)) {
        survivors.put(containerId, record);
      } else {
        LOG.log(
            System.Logger.Level.INFO,
            "removing {0} ({1}, {2}) left by an earlier run",
            containerId,
            found.state(),
            record == null ? "no record" : "record of " + record.containerId());
        runtime.remove(containerId);
      }
    }
    return survivors;
  }

  /** Registers the survivors whose slot the network adopted; removes the others. */
  private static void adopt(
      Map<String, SandboxRecord> survivors,
      SandboxRuntime runtime,
      NetworkSlotPool network,
      SandboxLifecycle lifecycle) {
    for (SandboxRecord record : survivors.values()) {
      NetworkSlot slot = network.acquired(record.slotIndex());
      try {
        if (slot == null) {
          throw new IllegalStateException("its network slot " + record.slotIndex() + " is gone");
        }
        lifecycle.adopt(record, slot);
        LOG.log(
            System.Logger.Level.INFO,
            "adopted sandbox {0} (container {1}, {2})",
            record.sandboxId(),
            record.containerId(),
            slot.ip());
      } catch (RuntimeException e) {
        LOG.log(
            System.Logger.Level.WARNING,
            "cannot adopt sandbox " + record.sandboxId() + ", removing it",
            e);
        runtime.remove(record.containerId());
        if (slot != null) {
          network.release(slot);
        }
      }
    }
  }

  private static void stop(
      SandboxLifecycle lifecycle, NetworkSlotPool network, boolean keepSandboxes) {
    try {
      lifecycle.close(keepSandboxes);
    } finally {
      if (keepSandboxes) {
        network.detach();
      } else {
        network.close();
      }
    }
  }

  /** The gRPC server's port (the bound one if the config said 0). */
  public int port() {
    return server.getPort();
  }

  /**
   * A channel to this orchestrator's services without the network: for an API in the same JVM
   * ({@code sbx up}). A create then costs no loopback TCP and no hand-over between threads: the
   * call runs on the caller's thread. Only blocking (or future) stubs may use it, never from an
   * event loop. The caller closes it.
   */
  public ManagedChannel localChannel() {
    return InProcessChannelBuilder.forName(inProcessName).directExecutor().build();
  }

  /**
   * This node as a client proxy in the same JVM sees it ({@code sbx up}): its node proxy at {@code
   * nodeProxyHost} (as the catalog names it) and {@link #nodeProxyPort}, its sandboxes' addresses
   * and its node proxy's dials. That client proxy then takes the node proxy's hop itself.
   */
  public LocalNode localNode(String nodeProxyHost) {
    requireNonNull(nodeProxyHost, "nodeProxyHost");
    return new LocalNode() {
      @Override
      public boolean isNodeProxy(String host, int port) {
        return port == proxy.port() && host.equals(nodeProxyHost);
      }

      @Override
      public @Nullable String sandboxAddress(String sandboxId) {
        return lifecycle.address(sandboxId);
      }

      @Override
      public int dialAttempts() {
        return proxySettings.dialAttempts();
      }

      @Override
      public Duration dialBackoffStep() {
        return proxySettings.dialBackoffStep();
      }
    };
  }

  /** The node proxy's port (the bound one if the config said 0). */
  public int nodeProxyPort() {
    return proxy.port();
  }

  public SandboxLifecycle lifecycle() {
    return lifecycle;
  }

  /** Pause, resume, snapshots and fork; the saved state is not removed by {@link #close}. */
  public PauseService pauses() {
    return pauses;
  }

  @Override
  public void close() {
    server.shutdown();
    inProcessServer.shutdown();
    try {
      for (Server each : List.of(server, inProcessServer)) {
        if (!each.awaitTermination(5, TimeUnit.SECONDS)) {
          each.shutdownNow();
          each.awaitTermination(5, TimeUnit.SECONDS);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.shutdownNow();
      inProcessServer.shutdownNow();
    }
    calls.close();
    try {
      proxy.close();
    } finally {
      stop(lifecycle, network, keepSandboxesOnStop);
    }
  }

  /**
   * Runs an orchestrator with {@link OrchestratorConfig#defaults()}, changed by the system
   * properties {@code sbx.grpc.port}, {@code sbx.proxy.port}, {@code sbx.templates}, {@code
   * sbx.envd.dist}, {@code sbx.nameservers} (the sandboxes' name servers, comma-separated; empty:
   * none), {@code sbx.warm.pool} (pool size of every template), {@code sbx.keep.sandboxes} ({@code
   * true}: a clean stop leaves the sandboxes running) and {@code sbx.runtime} ({@code runc} or
   * {@code runsc}), until the process is stopped (SIGTERM or SIGINT: a clean stop, see {@link
   * #close}).
   */
  public static void main(String[] args) throws InterruptedException {
    OrchestratorConfig defaults = OrchestratorConfig.defaults();
    String savedDir = System.getProperty("sbx.saved.dir");
    OrchestratorConfig config =
        new OrchestratorConfig(
                defaults.grpcAddress(),
                Integer.getInteger("sbx.grpc.port", defaults.grpcPort()),
                Path.of(System.getProperty("sbx.templates", defaults.templatesDir().toString())),
                defaults.runc(),
                defaults.network(),
                dev.sbx.orchestrator.lifecycle.LifecycleSettings.of(
                        Path.of(
                            System.getProperty(
                                "sbx.envd.dist", defaults.lifecycle().envdDist().toString())))
                    .withNameservers(nameservers(defaults.lifecycle().nameservers())))
            .withNodeProxy(
                defaults.nodeProxyHost(),
                Integer.getInteger("sbx.proxy.port", defaults.nodeProxyPort()))
            .withWarmPool(
                dev.sbx.orchestrator.lifecycle.WarmPoolSettings.ofSize(
                    Integer.getInteger("sbx.warm.pool", 0)))
            .withKeepSandboxesOnStop(Boolean.getBoolean("sbx.keep.sandboxes"))
            .withSavedState(
                new SavedStateSettings(
                    savedDir == null ? null : Path.of(savedDir),
                    Long.getLong("sbx.saved.quota.mb", 0L) * 1024 * 1024,
                    SavedStateSettings.DEFAULT.checkpointTimeout(),
                    Integer.getInteger(
                        "sbx.saved.frozen", SavedStateSettings.DEFAULT.frozenLimit()),
                    java.time.Duration.ofSeconds(
                        Long.getLong(
                            "sbx.saved.frozen.seconds",
                            SavedStateSettings.DEFAULT.frozenFor().toSeconds()))));
    if (OrchestratorConfig.RuntimeKind.parse(System.getProperty("sbx.runtime", "runc"))
        == OrchestratorConfig.RuntimeKind.RUNSC) {
      config = config.withRunsc(defaults.runsc());
    }
    Orchestrator orchestrator = start(config);
    Runtime.getRuntime().addShutdownHook(new Thread(orchestrator::close, "orchestrator-stop"));
    System.out.println(
        "orchestrator listening on gRPC port "
            + orchestrator.port()
            + ", node proxy port "
            + orchestrator.nodeProxyPort());
    orchestrator.server.awaitTermination();
  }

  /** The {@code sbx.nameservers} property (comma-separated addresses), or {@code defaults}. */
  static List<String> nameservers(List<String> defaults) {
    String property = System.getProperty("sbx.nameservers");
    if (property == null) {
      return defaults;
    }
    return java.util.Arrays.stream(property.split(","))
        .map(String::strip)
        .filter(s -> !s.isEmpty())
        .toList();
  }
}
