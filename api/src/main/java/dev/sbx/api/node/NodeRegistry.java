package dev.sbx.api.node;

import dev.sbx.api.store.NodeRecord;
import dev.sbx.api.store.Store;
import dev.sbx.api.store.TemplateRecord;
import dev.sbx.proto.orchestrator.ListSandboxesRequest;
import dev.sbx.proto.orchestrator.NodeInfo;
import dev.sbx.proto.orchestrator.NodeInfoRequest;
import dev.sbx.proto.orchestrator.Sandbox;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The orchestrators: the configured ones and the ones that registered themselves ({@link
 * #register}), health-checked every interval ({@code NodeService.Info}, then {@code
 * SandboxService.List} to reconcile). A registered node whose registrations stop for the TTL is
 * dropped: its channel closed, its running sandboxes reported gone ({@link Listener#nodeLost}). A
 * node's templates are registered in the store as public templates (id = alias). Placement orders
 * healthy nodes that have the template by free sandbox slots, then free memory.
 */
public final class NodeRegistry implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NodeRegistry.class);
  private static final Duration CHECK_DEADLINE = Duration.ofSeconds(3);

  /** Told what each health check found, to reconcile sandboxes. */
  public interface Listener {
    /** A healthy node ran exactly {@code sandboxes} when it was asked at {@code listedAt}. */
    void nodeChecked(Node node, List<Sandbox> sandboxes, Instant listedAt);

    /** A node's health check failed. */
    void nodeUnhealthy(Node node);

    /** A registered node was dropped (its registrations stopped): its sandboxes are gone. */
    void nodeLost(Node node);
  }

  /** The answer of {@link #register}: the node, and whether it is new (or its address changed). */
  public record Registration(Node node, boolean created) {}

  private final Store store;
  private final Object lock = new Object();
  // replaced as a whole under the lock; readers take the current one
  private volatile Map<String, Node> nodes;
  private final Function<NodeAddress, ManagedChannel> channels;
  private final String envdVersion;
  private final Duration interval;
  private final Duration registrationTtl;
  private volatile Listener listener =
      new Listener() {
        @Override
        public void nodeChecked(Node node, List<Sandbox> sandboxes, Instant listedAt) {}

        @Override
        public void nodeUnhealthy(Node node) {}

        @Override
        public void nodeLost(Node node) {}
      };

  /** Ids of the nodes that answered a check at least once, their templates registered. */
  private final Set<String> seen = ConcurrentHashMap.newKeySet();

  private final ScheduledExecutorService scheduler =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofVirtual().name("sbx-api-nodes").factory());

  public NodeRegistry(
      Store store,
      List<NodeAddress> addresses,
      Function<NodeAddress, ManagedChannel> channels,
      String envdVersion,
      Duration interval,
      Duration registrationTtl) {
    this.store = store;
    this.channels = channels;
    this.envdVersion = envdVersion;
    this.interval = interval;
    this.registrationTtl = registrationTtl;
    this.nodes =
        addresses.stream()
            .collect(
                Collectors.toMap(
                    NodeAddress::id,
                    a -> new Node(a, channels.apply(a)),
                    (a, b) -> {
                      throw new IllegalArgumentException("two nodes with the id " + a.id());
                    },
                    LinkedHashMap::new));
  }

  /**
   * A node registers itself, or repeats its registration (its heartbeat). A new node, or one whose
   * address changed (its channel replaced), is checked at once in the background.
   *
   * @throws IllegalStateException if {@code address.id()} is a configured node
   */
  public Registration register(NodeAddress address, Instant now) {
    Node added;
    @Nullable Node replaced;
    synchronized (lock) {
      Node current = nodes.get(address.id());
      if (current != null && current.source() == Node.Source.CONFIGURED) {
        throw new IllegalStateException("node '" + address.id() + "' is configured statically");
      }
      if (current != null && current.address().equals(address)) {
        current.heartbeat(now);
        return new Registration(current, false);
      }
      added = new Node(address, channels.apply(address), Node.Source.REGISTERED);
      added.heartbeat(now);
      Map<String, Node> next = new LinkedHashMap<>(nodes);
      next.put(address.id(), added);
      nodes = next;
      replaced = current;
    }
    if (replaced == null) {
      LOG.info("node {} registered ({})", address.id(), address.grpcTarget());
    } else {
      LOG.info(
          "node {} registered again with a new address ({} was {})",
          address.id(),
          address.grpcTarget(),
          replaced.address().grpcTarget());
      replaced.close();
    }
    try {
      scheduler.execute(() -> checkQuietly(added));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closing
    }
    return new Registration(added, true);
  }

  /**
   * Drops the registered nodes whose last registration is older than the TTL at {@code now}: their
   * channels are closed, they leave placement, and their running sandboxes are reported gone.
   * Returns the ids dropped.
   */
  public List<String> dropExpired(Instant now) {
    List<Node> dropped = new ArrayList<>();
    synchronized (lock) {
      Map<String, Node> next = new LinkedHashMap<>(nodes);
      for (Node node : nodes.values()) {
        Instant beat = node.lastHeartbeat();
        if (node.source() == Node.Source.REGISTERED
            && beat != null
            && beat.plus(registrationTtl).isBefore(now)) {
          next.remove(node.id());
          dropped.add(node);
        }
      }
      if (dropped.isEmpty()) {
        return List.of();
      }
      nodes = next;
    }
    for (Node node : dropped) {
      LOG.warn(
          "node {} ({}) stopped registering for {}: dropped, its sandboxes are gone",
          node.id(),
          node.address().grpcTarget(),
          registrationTtl);
      node.unhealthy();
      try {
        store.putNode(record(node, false, node.lastSeen()));
        listener.nodeLost(node);
      } catch (RuntimeException e) {
        LOG.warn("reporting the sandboxes of node {} gone failed", node.id(), e);
      }
      node.close();
    }
    return dropped.stream().map(Node::id).toList();
  }

  private void checkQuietly(Node node) {
    try {
      check(node);
    } catch (RuntimeException e) {
      LOG.warn("checking node {} failed", node.id(), e);
    }
  }

  public void listener(Listener listener) {
    this.listener = listener;
  }

  /** Checks every node once now, then every interval in the background. */
  public void start() {
    checkAll();
    scheduler.scheduleWithFixedDelay(
        this::checkAll, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Checks every node now (blocking). */
  public void checkAll() {
    dropExpired(Instant.now());
    for (Node node : nodes.values()) {
      checkQuietly(node);
    }
  }

  private boolean current(Node node) {
    return nodes.get(node.id()) == node;
  }

  private void check(Node node) {
    NodeInfo info;
    List<Sandbox> sandboxes;
    Instant listedAt = Instant.now();
    try {
      info = node.nodeService(CHECK_DEADLINE).info(NodeInfoRequest.getDefaultInstance());
      sandboxes =
          node.sandboxes(CHECK_DEADLINE)
              .list(ListSandboxesRequest.getDefaultInstance())
              .getSandboxesList();
    } catch (StatusRuntimeException e) {
      if (!current(node)) {
        return; // dropped or replaced meanwhile
      }
      if (node.healthy() || node.info() == null) {
        LOG.warn(
            "node {} ({}) is unhealthy: {}", node.id(), node.address().grpcTarget(), e.getStatus());
      }
      node.unhealthy();
      store.putNode(record(node, false, null));
      listener.nodeUnhealthy(node);
      return;
    }
    Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
    if (!current(node)) {
      return; // dropped or replaced meanwhile
    }
    node.healthy(info, now);
    store.putNode(record(node, true, now));
    registerTemplates(info, now);
    seen.add(node.id());
    listener.nodeChecked(node, sandboxes, listedAt);
  }

  /**
   * Whether every configured node has answered a check at least once (its templates are then in the
   * store): a server that starts its nodes itself is ready for creates only then.
   */
  public boolean allSeen() {
    return seen.containsAll(nodes.keySet());
  }

  private static NodeRecord record(Node node, boolean healthy, @Nullable Instant seen) {
    NodeAddress a = node.address();
    return new NodeRecord(a.id(), a.grpcTarget(), a.proxyHost(), a.proxyPort(), healthy, seen);
  }

  private void registerTemplates(NodeInfo info, Instant now) {
    for (String templateId : info.getTemplatesList()) {
      if (store.template(templateId).isPresent()) {
        continue;
      }
      List<String> aliases =
          store.templateByAlias(templateId).isPresent() ? List.of() : List.of(templateId);
      store.putTemplate(
          new TemplateRecord(
              templateId, null, true, aliases, 2, 512, 0, envdVersion, now, now, null, 0));
      LOG.info("registered template {} of a node", templateId);
    }
  }

  public Optional<Node> node(String nodeId) {
    return Optional.ofNullable(nodes.get(nodeId));
  }

  public List<Node> nodes() {
    return List.copyOf(nodes.values());
  }

  public boolean healthy(String nodeId) {
    Node node = nodes.get(nodeId);
    return node != null && node.healthy();
  }

  /** Healthy nodes, best first for placement. */
  public List<Node> healthyNodes() {
    List<Node> healthy = new ArrayList<>();
    for (Node node : nodes.values()) {
      if (node.healthy()) {
        healthy.add(node);
      }
    }
    healthy.sort(
        Comparator.comparingLong(Node::freeSlots)
            .thenComparingLong(Node::freeMemoryMb)
            .reversed()
            .thenComparing(Node::id));
    return healthy;
  }

  /** Healthy nodes that have {@code templateId}, best first. */
  public List<Node> candidates(String templateId) {
    return healthyNodes().stream().filter(n -> n.hasTemplate(templateId)).toList();
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
    try {
      scheduler.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (lock) {
      nodes.values().forEach(Node::close);
      nodes = Map.of();
    }
  }
}
