package dev.sbx.orchestrator.grpc;

import static java.util.Objects.requireNonNull;

import dev.sbx.orchestrator.lifecycle.Sandbox;
import dev.sbx.orchestrator.lifecycle.SandboxLifecycle;
import dev.sbx.orchestrator.pause.PauseService;
import dev.sbx.proto.orchestrator.NodeInfo;
import dev.sbx.proto.orchestrator.NodeInfoRequest;
import dev.sbx.proto.orchestrator.NodeServiceGrpc;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.IntSupplier;

/** {@code sbx.orchestrator.v1.NodeService}: what this node has and uses. */
public final class NodeGrpcService extends NodeServiceGrpc.NodeServiceImplBase {
  private final SandboxLifecycle lifecycle;
  private final IntSupplier nodeProxyPort;
  private final PauseService pauses;

  /**
   * @param nodeProxyPort the node proxy's bound port (asked on every call: the proxy may start
   *     after this service is made)
   */
  public NodeGrpcService(
      SandboxLifecycle lifecycle, IntSupplier nodeProxyPort, PauseService pauses) {
    this.pauses = requireNonNull(pauses, "pauses");
    this.lifecycle = requireNonNull(lifecycle, "lifecycle");
    this.nodeProxyPort = requireNonNull(nodeProxyPort, "nodeProxyPort");
  }

  @Override
  public void info(NodeInfoRequest request, StreamObserver<NodeInfo> response) {
    SandboxGrpcService.answer(response, this::info);
  }

  NodeInfo info() {
    List<Sandbox> sandboxes = lifecycle.list();
    return NodeInfo.newBuilder()
        .setRuntime(lifecycle.runtime().name())
        .setMaxSandboxes(lifecycle.capacity())
        .setSandboxes(lifecycle.count())
        .setHostCpuCount(Runtime.getRuntime().availableProcessors())
        .setHostMemoryMb(hostMemoryMB())
        .setAllocatedCpuCount(sandboxes.stream().mapToInt(s -> s.limits().cpuCount()).sum())
        .setAllocatedMemoryMb(sandboxes.stream().mapToLong(s -> s.limits().memoryMB()).sum())
        .addAllTemplates(lifecycle.templates().ids())
        .setReadyNetworkSlots(lifecycle.network().readyCount())
        .setNodeProxyPort(nodeProxyPort.getAsInt())
        .putAllWarmPool(lifecycle.warmPoolCounts())
        .setPausedSandboxes(pauses.listPaused().size())
        .setSnapshots(pauses.listSnapshots().size())
        .setSavedStateBytes(pauses.store().usedBytes())
        .setSavedStateQuotaBytes(pauses.settings().quotaBytes())
        .build();
  }

  /** {@code MemTotal} of {@code /proc/meminfo}, in MiB. */
  static long hostMemoryMB() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          String kb = line.substring("MemTotal:".length()).replace("kB", "").strip();
          return Long.parseLong(kb) / 1024;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    throw new IllegalStateException("no MemTotal in /proc/meminfo");
  }
}
