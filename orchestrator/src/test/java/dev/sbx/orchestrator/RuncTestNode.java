package dev.sbx.orchestrator;

import dev.sbx.orchestrator.fixture.TestTemplate;
import dev.sbx.orchestrator.lifecycle.LifecycleSettings;
import dev.sbx.orchestrator.lifecycle.WarmPoolSettings;
import dev.sbx.orchestrator.network.NetworkConfig;
import dev.sbx.orchestrator.network.NetworkSlotPool;
import dev.sbx.orchestrator.rootfs.DirectoryTree;
import dev.sbx.orchestrator.rootfs.MountTable;
import dev.sbx.orchestrator.runtime.RuncRuntime;
import dev.sbx.orchestrator.runtime.RuncSettings;
import dev.sbx.orchestrator.runtime.RuntimeSandbox;
import dev.sbx.proto.orchestrator.NodeInfoRequest;
import dev.sbx.proto.orchestrator.NodeServiceGrpc;
import dev.sbx.proto.orchestrator.SandboxServiceGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A whole orchestrator on runc for one test class (root, runc, nftables, envd's dist): busybox
 * templates by the given names, its own network layout, containers {@code <layout prefix>-…},
 * cgroups below {@code /<layout prefix>}, a work directory in {@code /tmp}; gRPC on loopback, the
 * node proxy on 127.0.0.1. {@link #stop} closes it and reports whatever it left on the host.
 */
final class RuncTestNode {
  final Path workDir;
  final RuncSettings runc;
  final OrchestratorConfig config;
  final Orchestrator orchestrator;
  final ManagedChannel channel;
  final SandboxServiceGrpc.SandboxServiceBlockingStub sandboxes;
  final NodeServiceGrpc.NodeServiceBlockingStub node;

  private RuncTestNode(
      Path workDir, RuncSettings runc, OrchestratorConfig config, Orchestrator orchestrator) {
    this.workDir = workDir;
    this.runc = runc;
    this.config = config;
    this.orchestrator = orchestrator;
    this.channel =
        Grpc.newChannelBuilderForAddress(
                "127.0.0.1", orchestrator.port(), InsecureChannelCredentials.create())
            .build();
    this.sandboxes =
        SandboxServiceGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.MINUTES);
    this.node = NodeServiceGrpc.newBlockingStub(channel);
  }

  /**
   * Starts an orchestrator with at most {@code maxSandboxes}, reaping every 100 ms, with {@code
   * warmPool}; what a crashed run of the same layout left is removed first.
   *
   * @throws IllegalStateException if this process is not root
   */
  static RuncTestNode start(
      NetworkConfig network,
      List<String> templates,
      int maxSandboxes,
      Duration healthTimeout,
      WarmPoolSettings warmPool)
      throws IOException, InterruptedException {
    if (!Files.getAttribute(Path.of("/proc/self"), "unix:uid").equals(0)) {
      throw new IllegalStateException(
          "an orchestrator on runc needs root (runc, network namespaces, nftables, cgroups)");
    }
    String prefix = network.prefix();
    Path workDir = Files.createTempDirectory(prefix + "-");
    for (String template : templates) {
      TestTemplate.install(workDir.resolve("templates"), template);
    }
    RuncSettings runc =
        new RuncSettings(
            Path.of("runc"),
            workDir.resolve("runc-state"),
            workDir.resolve("sandboxes"),
            prefix + "-",
            prefix);
    NetworkSlotPool.removeAll(network);
    OrchestratorConfig config =
        new OrchestratorConfig(
                InetAddress.getLoopbackAddress(),
                0,
                workDir.resolve("templates"),
                runc,
                network,
                new LifecycleSettings(
                    TestTemplate.envdDist(),
                    maxSandboxes,
                    healthTimeout,
                    Duration.ofMillis(100),
                    List.of()))
            .withNodeProxy("127.0.0.1", 0)
            .withWarmPool(warmPool);
    return new RuncTestNode(workDir, runc, config, Orchestrator.start(config));
  }

  /** Warm sandboxes waiting for {@code template}, as the node reports them. */
  int warmWaiting(String template) {
    return node.info(NodeInfoRequest.getDefaultInstance())
        .getWarmPoolMap()
        .getOrDefault(template, 0);
  }

  /** The warm containers now: runc containers whose id has the warm prefix. */
  Set<String> warmContainers() {
    return Set.copyOf(
        new RuncRuntime(runc)
            .list().stream()
                .map(RuntimeSandbox::sandboxId)
                .filter(id -> id.startsWith("warm"))
                .toList());
  }

  /**
   * Closes the orchestrator, removes what is left of its layout and returns it: containers, mounts,
   * cgroups, network pieces, anything the leak inventory finds (empty: nothing was left).
   */
  List<String> stop() throws Exception {
    List<String> left = new ArrayList<>();
    NetworkConfig network = config.network();
    try {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      orchestrator.close();
      left.addAll(LeakInventory.find(config, null));
    } finally {
      left.addAll(NetworkSlotPool.leftovers(network));
      NetworkSlotPool.removeAll(network);
      left.addAll(removeRuncLeftovers(runc));
      DirectoryTree.delete(workDir);
    }
    return left;
  }

  /**
   * Removes what containers of {@code runc}'s settings left on the host and names each: runc
   * containers (then removed), mounts below its sandboxes directory, cgroups below its cgroup
   * parent in every hierarchy (the parents are removed where empty).
   */
  static List<String> removeRuncLeftovers(RuncSettings runc) throws IOException {
    List<String> left = new ArrayList<>();
    RuncRuntime runtime = new RuncRuntime(runc);
    runtime.list().forEach(s -> left.add("runc sandbox " + s));
    runtime.list().forEach(s -> runtime.remove(s.sandboxId()));
    MountTable.mountPointsUnder(runc.sandboxesDir()).forEach(p -> left.add("mount " + p));
    try (DirectoryStream<Path> hierarchies = Files.newDirectoryStream(Path.of("/sys/fs/cgroup"))) {
      for (Path hierarchy : hierarchies) {
        Path parent = hierarchy.resolve(runc.cgroupParent());
        if (Files.isDirectory(parent)) {
          try (var children = Files.list(parent)) {
            children.filter(Files::isDirectory).forEach(child -> left.add("cgroup " + child));
          }
        }
        Files.deleteIfExists(parent); // rmdir: fails if not empty
      }
    }
    return left;
  }
}
