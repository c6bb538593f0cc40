package dev.sbx.api.node;

import dev.sbx.proto.orchestrator.NodeInfo;
import dev.sbx.proto.orchestrator.NodeServiceGrpc;
import dev.sbx.proto.orchestrator.SandboxServiceGrpc;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/** One orchestrator: its channel, and what its last health check found. */
public final class Node {
  /** How the API knows a node. */
  public enum Source {
    /** Given at start ({@code --node}); kept for the API's lifetime. */
    CONFIGURED,
    /** Registered itself ({@code POST /admin/nodes}); dropped when its heartbeats stop. */
    REGISTERED
  }

  private final NodeAddress address;
  private final ManagedChannel channel;
  private final Source source;
  private volatile @Nullable NodeInfo info;
  private volatile boolean healthy;
  private volatile @Nullable Instant lastSeen;
  private volatile @Nullable Instant lastHeartbeat;

  Node(NodeAddress address, ManagedChannel channel) {
    this(address, channel, Source.CONFIGURED);
  }

  Node(NodeAddress address, ManagedChannel channel, Source source) {
    this.address = address;
    this.channel = channel;
    this.source = source;
  }

  public Source source() {
    return source;
  }

  /** When a health check last succeeded, or null. */
  public @Nullable Instant lastSeen() {
    return lastSeen;
  }

  /** When a registered node last registered (its heartbeat), or null for a configured one. */
  public @Nullable Instant lastHeartbeat() {
    return lastHeartbeat;
  }

  void heartbeat(Instant at) {
    this.lastHeartbeat = at;
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

  void healthy(NodeInfo info, Instant at) {
    this.info = info;
    this.lastSeen = at;
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
