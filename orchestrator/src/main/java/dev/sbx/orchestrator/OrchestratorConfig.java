package dev.sbx.orchestrator;

import static java.util.Objects.requireNonNull;

import dev.sbx.orchestrator.lifecycle.LifecycleSettings;
import dev.sbx.orchestrator.lifecycle.WarmPoolSettings;
import dev.sbx.orchestrator.network.NetworkConfig;
import dev.sbx.orchestrator.pause.SavedStateSettings;
import dev.sbx.orchestrator.proxy.NodeProxySettings;
import dev.sbx.orchestrator.runtime.RuncSettings;
import dev.sbx.orchestrator.runtime.RunscSettings;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Everything an {@link Orchestrator} needs.
 *
 * @param grpcAddress the address the gRPC server binds to
 * @param grpcPort its port (0: any free port)
 * @param templatesDir one rootfs directory per template id
 * @param runc where runc keeps things (used when {@code runtime} is {@link RuntimeKind#RUNC})
 * @param nodeProxyHost the address the node proxy listens on
 * @param nodeProxyPort its port (5007; 0: any free port)
 * @param keepSandboxesOnStop whether a clean stop leaves the sandboxes running for the next
 *     orchestrator to adopt (false: a clean stop deletes them all)
 * @param runtime the OCI runtime of every sandbox of this node
 * @param runsc where runsc keeps things and how it runs (used when {@code runtime} is {@link
 *     RuntimeKind#RUNSC})
 * @param savedState where paused sandboxes and snapshots are kept, and the quota
 */
public record OrchestratorConfig(
    InetAddress grpcAddress,
    int grpcPort,
    Path templatesDir,
    RuncSettings runc,
    NetworkConfig network,
    LifecycleSettings lifecycle,
    String nodeProxyHost,
    int nodeProxyPort,
    boolean keepSandboxesOnStop,
    RuntimeKind runtime,
    RunscSettings runsc,
    SavedStateSettings savedState) {

  public static final int DEFAULT_GRPC_PORT = 5008;

  /** The OCI runtimes a node can run its sandboxes on. */
  public enum RuntimeKind {
    /** {@code runc}: containers on the host kernel. */
    RUNC,
    /** gVisor's {@code runsc}: a user-space kernel per sandbox. */
    RUNSC;

    /** {@code runc} or {@code runsc}. */
    public static RuntimeKind parse(String name) {
      return switch (name.toLowerCase(Locale.ROOT)) {
        case "runc" -> RUNC;
        case "runsc" -> RUNSC;
        default -> throw new IllegalArgumentException("unknown runtime (runc, runsc): " + name);
      };
    }
  }

  public OrchestratorConfig {
    requireNonNull(grpcAddress, "grpcAddress");
    requireNonNull(templatesDir, "templatesDir");
    requireNonNull(runc, "runc");
    requireNonNull(network, "network");
    requireNonNull(lifecycle, "lifecycle");
    requireNonNull(nodeProxyHost, "nodeProxyHost");
    requireNonNull(runtime, "runtime");
    requireNonNull(runsc, "runsc");
    requireNonNull(savedState, "savedState");
    if (grpcPort < 0 || grpcPort > 65535) {
      throw new IllegalArgumentException("not a port: " + grpcPort);
    }
    if (nodeProxyPort < 0 || nodeProxyPort > 65535) {
      throw new IllegalArgumentException("not a port: " + nodeProxyPort);
    }
  }

  /**
   * The node proxy on all addresses, port 5007; a clean stop deletes every sandbox; runc (runsc's
   * settings: {@link RunscSettings#defaults()}).
   */
  public OrchestratorConfig(
      InetAddress grpcAddress,
      int grpcPort,
      Path templatesDir,
      RuncSettings runc,
      NetworkConfig network,
      LifecycleSettings lifecycle) {
    this(
        grpcAddress,
        grpcPort,
        templatesDir,
        runc,
        network,
        lifecycle,
        "0.0.0.0",
        NodeProxySettings.DEFAULT_PORT,
        false,
        RuntimeKind.RUNC,
        RunscSettings.defaults(),
        SavedStateSettings.DEFAULT);
  }

  /**
   * The production layout: gRPC on all addresses, port 5008, the node proxy on all addresses, port
   * 5007, templates in {@code /var/lib/sbx/templates}, {@link RuncSettings#defaults()}, {@link
   * NetworkConfig#defaults()}, envd's dist in {@code /opt/sbx}.
   */
  public static OrchestratorConfig defaults() {
    return new OrchestratorConfig(
        InetAddress.ofLiteral("0.0.0.0"),
        DEFAULT_GRPC_PORT,
        Path.of("/var/lib/sbx/templates"),
        RuncSettings.defaults(),
        NetworkConfig.defaults(),
        LifecycleSettings.of(Path.of("/opt/sbx")));
  }

  /** Warm pools per template (a shortcut for the lifecycle settings' {@code warmPool}). */
  public OrchestratorConfig withWarmPool(WarmPoolSettings warmPool) {
    return withLifecycle(lifecycle.withWarmPool(warmPool));
  }

  public OrchestratorConfig withLifecycle(LifecycleSettings lifecycle) {
    return new OrchestratorConfig(
        grpcAddress,
        grpcPort,
        templatesDir,
        runc,
        network,
        lifecycle,
        nodeProxyHost,
        nodeProxyPort,
        keepSandboxesOnStop,
        runtime,
        runsc,
        savedState);
  }

  public OrchestratorConfig withNodeProxy(String host, int port) {
    return new OrchestratorConfig(
        grpcAddress,
        grpcPort,
        templatesDir,
        runc,
        network,
        lifecycle,
        host,
        port,
        keepSandboxesOnStop,
        runtime,
        runsc,
        savedState);
  }

  public OrchestratorConfig withKeepSandboxesOnStop(boolean keep) {
    return new OrchestratorConfig(
        grpcAddress,
        grpcPort,
        templatesDir,
        runc,
        network,
        lifecycle,
        nodeProxyHost,
        nodeProxyPort,
        keep,
        runtime,
        runsc,
        savedState);
  }

  /** runsc with these settings. */
  public OrchestratorConfig withRunsc(RunscSettings runsc) {
    return new OrchestratorConfig(
        grpcAddress,
        grpcPort,
        templatesDir,
        runc,
        network,
        lifecycle,
        nodeProxyHost,
        nodeProxyPort,
        keepSandboxesOnStop,
        RuntimeKind.RUNSC,
        runsc,
        savedState);
  }

  /** Paused sandboxes and snapshots kept per these settings. */
  public OrchestratorConfig withSavedState(SavedStateSettings savedState) {
    return new OrchestratorConfig(
        grpcAddress,
        grpcPort,
        templatesDir,
        runc,
        network,
        lifecycle,
        nodeProxyHost,
        nodeProxyPort,
        keepSandboxesOnStop,
        runtime,
        runsc,
        savedState);
  }
}
