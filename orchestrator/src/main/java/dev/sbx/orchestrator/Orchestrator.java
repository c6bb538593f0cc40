package dev.sbx.orchestrator;

import static java.util.Objects.requireNonNull;

import dev.sbx.orchestrator.grpc.NodeGrpcService;
import dev.sbx.orchestrator.grpc.SandboxGrpcService;
import dev.sbx.orchestrator.lifecycle.SandboxLifecycle;
import dev.sbx.orchestrator.network.NetworkSlotPool;
import dev.sbx.orchestrator.proxy.NodeProxy;
import dev.sbx.orchestrator.proxy.NodeProxySettings;
import dev.sbx.orchestrator.runtime.RuncRuntime;
import dev.sbx.orchestrator.template.TemplateDirectory;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * One node's orchestrator: the network slot pool, the runc runtime, the sandbox lifecycle, the node
 * proxy (routing to the lifecycle's sandboxes) and the gRPC server ({@code SandboxService}, {@code
 * NodeService}), started together.
 *
 * <p>{@link #close} stops the server (calls under way get 5 s), deletes every sandbox the node
 * created, then removes the network (slots, bridge, nftables tables). A clean stop leaves nothing
 * on the host; sandboxes do not survive it (adopting running sandboxes after a restart is not done
 * yet).
 */
public final class Orchestrator implements AutoCloseable {
  private final NetworkSlotPool network;
  private final SandboxLifecycle lifecycle;
  private final ExecutorService calls;
  private final Server server;
  private final NodeProxy proxy;

  private Orchestrator(
      NetworkSlotPool network,
      SandboxLifecycle lifecycle,
      ExecutorService calls,
      Server server,
      NodeProxy proxy) {
    this.network = network;
    this.lifecycle = lifecycle;
    this.calls = calls;
    this.server = server;
    this.proxy = proxy;
  }

  /**
   * Starts everything.
   *
   * @throws UncheckedIOException if the gRPC port cannot be bound
   * @throws IllegalStateException if the node proxy's port cannot be bound
   */
  public static Orchestrator start(OrchestratorConfig config) {
    requireNonNull(config, "config");
    NetworkSlotPool network = NetworkSlotPool.start(config.network());
    SandboxLifecycle lifecycle;
    try {
      lifecycle =
          new SandboxLifecycle(
              new RuncRuntime(config.runc()),
              network,
              new TemplateDirectory(config.templatesDir()),
              config.lifecycle(),
              InstantSource.system());
    } catch (RuntimeException e) {
      network.close();
      throw e;
    }
    NodeProxy proxy;
    try {
      proxy =
          NodeProxy.start(
              NodeProxySettings.defaults(config.nodeProxyHost(), config.nodeProxyPort()),
              lifecycle);
    } catch (RuntimeException e) {
      try {
        lifecycle.close();
      } finally {
        network.close();
      }
      throw e;
    }
    // creates block for up to the health timeout: one virtual thread per call
    ExecutorService calls = Executors.newVirtualThreadPerTaskExecutor();
    Server server =
        NettyServerBuilder.forAddress(
                new InetSocketAddress(config.grpcAddress(), config.grpcPort()),
                InsecureServerCredentials.create())
            .executor(calls)
            .addService(new SandboxGrpcService(lifecycle))
            .addService(new NodeGrpcService(lifecycle, proxy::port))
            .build();
    try {
      server.start();
    } catch (IOException | RuntimeException e) {
      calls.close();
      proxy.close();
      lifecycle.close();
      network.close();
      throw e instanceof IOException io
          ? new UncheckedIOException("starting the gRPC server failed", io)
          : (RuntimeException) e;
    }
    return new Orchestrator(network, lifecycle, calls, server, proxy);
  }

  /** The gRPC server's port (the bound one if the config said 0). */
  public int port() {
    return server.getPort();
  }

  /** The node proxy's port (the bound one if the config said 0). */
  public int nodeProxyPort() {
    return proxy.port();
  }

  public SandboxLifecycle lifecycle() {
    return lifecycle;
  }

  @Override
  public void close() {
    server.shutdown();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.shutdownNow();
    }
    calls.close();
    try {
      proxy.close();
      lifecycle.close();
    } finally {
      network.close();
    }
  }

  /**
   * Runs an orchestrator with {@link OrchestratorConfig#defaults()}, changed by the system
   * properties {@code sbx.grpc.port}, {@code sbx.proxy.port}, {@code sbx.templates} and {@code
   * sbx.envd.dist}, until the process is stopped (SIGTERM or SIGINT: a clean stop, see {@link
   * #close}).
   */
  public static void main(String[] args) throws InterruptedException {
    OrchestratorConfig defaults = OrchestratorConfig.defaults();
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
                            "sbx.envd.dist", defaults.lifecycle().envdDist().toString()))))
            .withNodeProxy(
                defaults.nodeProxyHost(),
                Integer.getInteger("sbx.proxy.port", defaults.nodeProxyPort()));
    Orchestrator orchestrator = start(config);
    Runtime.getRuntime().addShutdownHook(new Thread(orchestrator::close, "orchestrator-stop"));
    System.out.println(
        "orchestrator listening on gRPC port "
            + orchestrator.port()
            + ", node proxy port "
            + orchestrator.nodeProxyPort());
    orchestrator.server.awaitTermination();
  }
}
