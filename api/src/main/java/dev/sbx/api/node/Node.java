package dev.sbx.api.node;

import dev.sbx.proto.orchestrator.NodeInfo;
import dev.sbx.proto.orchestrator.NodeServiceGrpc;
import dev.sbx.proto.orchestrator.SandboxServiceGrpc;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/** One orchestrator: its channel, and what its last health check found. */
public final class Node {
  private final NodeAddress address;
  private final ManagedChannel channel;
  private volatile @Nullable NodeInfo info;
  private volatile boolean healthy;

  Node(NodeAddress address, ManagedChannel channel) {
    this.address = address;
    this.channel = channel;
  }

  public NodeAddress address() {
    return address;
  }

  public String id() {
    return address.id();
  }

  public boolean healthy() {
    return healthy;
  }

  /** What the last successful health check reported, or null before the first. */
  public @Nullable NodeInfo info() {
    return info;
  }

  void healthy(NodeInfo info) {
    this.info = info;
    this.healthy = true;
  }

  void unhealthy() {
    this.healthy = false;
  }

  /** Blocking sandbox stub with a deadline. */
  public SandboxServiceGrpc.SandboxServiceBlockingStub sandboxes(Duration deadline) {
    return SandboxServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  NodeServiceGrpc.NodeServiceBlockingStub nodeService(Duration deadline) {
    return NodeServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Free sandbox slots, then free memory: what placement sorts by (more first). */
  long freeSlots() {
    NodeInfo current = info;
    return current == null ? 0 : (long) current.getMaxSandboxes() - current.getSandboxes();
  }

  long freeMemoryMb() {
    NodeInfo current = info;
    return current == null ? 0 : current.getHostMemoryMb() - current.getAllocatedMemoryMb();
  }

  boolean hasTemplate(String templateId) {
    NodeInfo current = info;
    return current != null && current.getTemplatesList().contains(templateId);
  }

  void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
