package dev.sbx.orchestrator.lifecycle;

import static java.util.Objects.requireNonNull;

import dev.sbx.orchestrator.network.EgressPolicy;
import dev.sbx.orchestrator.network.NetworkSlot;
import dev.sbx.orchestrator.network.NetworkSlotPool;
import dev.sbx.orchestrator.runtime.SandboxRuntime;
import dev.sbx.orchestrator.runtime.SandboxSpec;
import dev.sbx.orchestrator.template.Template;
import dev.sbx.orchestrator.template.TemplateDirectory;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The sandboxes of this node, in memory. {@link #create} acquires a network slot with the request's
 * egress policy, creates the container from the template's rootfs in that slot's namespace, waits
 * for envd's {@code /health} and sends {@code /init}; if any step fails, what was made (container,
 * rootfs, slot) is removed before the exception is thrown. {@link #delete} removes the container
 * and releases the slot. A reaper deletes sandboxes whose end time has passed.
 *
 * <p>{@link #close} deletes every sandbox: sandboxes do not outlive the orchestrator that made them
 * (adopting them after a restart is not done yet).
 *
 * <p>Thread-safe; creates and deletes of different sandboxes run in parallel.
 */
public final class SandboxLifecycle implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(SandboxLifecycle.class.getName());

  private final SandboxRuntime runtime;
  private final NetworkSlotPool network;
  private final TemplateDirectory templates;
  private final LifecycleSettings settings;
  private final InstantSource clock;
  private final EnvdClient envd = new EnvdClient();
  private final ScheduledExecutorService reaper =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().daemon().name("sandbox-reaper").factory());

  private final Object lock = new Object();
  private final Map<String, Sandbox> sandboxes = new HashMap<>();
  private final Set<String> creating = new HashSet<>();
  private final Set<String> deleting = new HashSet<>();
  private boolean closed;

  public SandboxLifecycle(
      SandboxRuntime runtime,
      NetworkSlotPool network,
      TemplateDirectory templates,
      LifecycleSettings settings,
      InstantSource clock) {
    this.runtime = requireNonNull(runtime, "runtime");
    this.network = requireNonNull(network, "network");
    this.templates = requireNonNull(templates, "templates");
    this.settings = requireNonNull(settings, "settings");
    this.clock = requireNonNull(clock, "clock");
    long interval = settings.reaperInterval().toMillis();
    reaper.scheduleWithFixedDelay(this::reapSafely, interval, interval, TimeUnit.MILLISECONDS);
  }

  public SandboxRuntime runtime() {
    return runtime;
  }

  public NetworkSlotPool network() {
    return network;
  }

  public TemplateDirectory templates() {
    return templates;
  }

  public LifecycleSettings settings() {
    return settings;
  }

  /** The most sandboxes at once: the setting, or fewer if the network has fewer addresses. */
  public int capacity() {
    var config = network.config();
    return Math.min(settings.maxSandboxes(), config.lastSlot() - config.firstSlot() + 1);
  }

  /**
   * Creates a sandbox and returns once envd in it is healthy and initialised.
   *
   * @throws IllegalArgumentException if the template id is malformed
   * @throws dev.sbx.orchestrator.template.UnknownTemplateException if there is no such template
   * @throws dev.sbx.orchestrator.template.InvalidTemplateException if the template is not usable
   * @throws SandboxExistsException if the id is in use on this node
   * @throws NodeFullException if the node runs its maximum or no address is free
   * @throws EnvdException if envd did not become healthy or refused {@code /init}
   * @throws RuntimeException from the runtime or the network if they failed
   */
  public Sandbox create(SandboxRequest request) {
    Template template = templates.template(requireNonNull(request, "request").templateId());
    request = request.withDefaultsOf(template.settings());
    Path rootfs = template.rootfs();
    String id = request.sandboxId();
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("the node is shutting down");
      }
      if (sandboxes.containsKey(id) || creating.contains(id)) {
        throw new SandboxExistsException(id);
      }
      int inUse = sandboxes.size() + creating.size();
      if (inUse >= settings.maxSandboxes()) {
        throw new NodeFullException(
            "node full: " + inUse + " of " + settings.maxSandboxes() + " sandboxes");
      }
      if (inUse >= capacity()) {
        throw new NodeFullException("no network address left in " + network.config().pool());
      }
      creating.add(id);
    }
    NetworkSlot slot = null;
    boolean containerMade = false;
    try {
      slot = network.acquire(request.egress());
      SandboxSpec spec =
          new SandboxSpec(
              id,
              rootfs,
              settings.envdDist(),
              request.limits(),
              new LinkedHashMap<>(),
              slot.netnsPath(),
              slot.ip(),
              settings.nameservers());
      runtime.create(spec);
      containerMade = true;
      envd.awaitHealthy(slot.ip(), settings.healthTimeout());
      envd.init(
          slot.ip(),
          request.envVars(),
          request.accessToken(),
          request.defaultUser(),
          request.defaultWorkdir(),
          clock.instant(),
          settings.healthTimeout());
      Sandbox sandbox =
          new Sandbox(
              id,
              request.templateId(),
              slot,
              request.limits(),
              request.metadata(),
              clock.instant(),
              request.endTime(),
              request.egress());
      synchronized (lock) {
        if (closed) {
          throw new IllegalStateException("the node shut down during create");
        }
        creating.remove(id);
        sandboxes.put(id, sandbox);
      }
      return sandbox;
    } catch (RuntimeException e) {
      undoCreate(id, slot, containerMade, e);
      throw e;
    } finally {
      synchronized (lock) {
        creating.remove(id);
        lock.notifyAll();
      }
    }
  }

  private void undoCreate(
      String id, @Nullable NetworkSlot slot, boolean containerMade, RuntimeException failure) {
    if (containerMade) {
      try {
        runtime.remove(id);
      } catch (RuntimeException e) {
        failure.addSuppressed(e);
      }
    }
    if (slot != null) {
      try {
        network.release(slot);
      } catch (RuntimeException e) {
        failure.addSuppressed(e);
      }
    }
  }

  public Optional<Sandbox> get(String sandboxId) {
    requireNonNull(sandboxId, "sandboxId");
    synchronized (lock) {
      return Optional.ofNullable(sandboxes.get(sandboxId));
    }
  }

  /** The running sandboxes (not those being created), in no particular order. */
  public List<Sandbox> list() {
    synchronized (lock) {
      return List.copyOf(sandboxes.values());
    }
  }

  /** Sandboxes running or being created. */
  public int count() {
    synchronized (lock) {
      return sandboxes.size() + creating.size();
    }
  }

  /**
   * Kills the sandbox and removes its container, rootfs and network slot. The sandbox stays listed
   * until everything is removed; a delete of a sandbox already being deleted, or already gone,
   * fails with {@link SandboxNotFoundException}. If removing the container fails, the sandbox stays
   * listed and the delete can be retried.
   *
   * @throws SandboxNotFoundException if there is no such sandbox (or it is being deleted)
   */
  public void delete(String sandboxId) {
    requireNonNull(sandboxId, "sandboxId");
    Sandbox sandbox;
    synchronized (lock) {
      sandbox = sandboxes.get(sandboxId);
      if (sandbox == null || !deleting.add(sandboxId)) {
        throw new SandboxNotFoundException(sandboxId);
      }
    }
    boolean containerRemoved = false;
    try {
      runtime.remove(sandboxId);
      containerRemoved = true;
      network.release(sandbox.slot());
    } finally {
      synchronized (lock) {
        deleting.remove(sandboxId);
        if (containerRemoved) {
          // a failed slot release leaves its index taken in the pool, nothing in the sandbox
          sandboxes.remove(sandboxId);
        }
      }
    }
  }

  /**
   * Sets the end time (null: never).
   *
   * @throws SandboxNotFoundException if there is no such sandbox
   */
  public Sandbox updateEndTime(String sandboxId, @Nullable Instant endTime) {
    requireNonNull(sandboxId, "sandboxId");
    synchronized (lock) {
      Sandbox current = sandboxes.get(sandboxId);
      if (current == null) {
        throw new SandboxNotFoundException(sandboxId);
      }
      Sandbox updated = current.withEndTime(endTime);
      sandboxes.put(sandboxId, updated);
      return updated;
    }
  }

  /**
   * Replaces the egress policy; open connections are judged anew.
   *
   * @throws SandboxNotFoundException if there is no such sandbox
   */
  public Sandbox updateEgress(String sandboxId, EgressPolicy egress) {
    requireNonNull(sandboxId, "sandboxId");
    requireNonNull(egress, "egress");
    Sandbox sandbox = get(sandboxId).orElseThrow(() -> new SandboxNotFoundException(sandboxId));
    network.updateEgress(sandbox.slot(), egress);
    synchronized (lock) {
      Sandbox current = sandboxes.get(sandboxId);
      if (current == null) {
        throw new SandboxNotFoundException(sandboxId);
      }
      Sandbox updated = current.withEgress(egress);
      sandboxes.put(sandboxId, updated);
      return updated;
    }
  }

  /** Deletes every sandbox whose end time has passed; returns their ids. */
  public List<String> deleteExpired() {
    Instant now = clock.instant();
    List<String> expired = new ArrayList<>();
    for (Sandbox sandbox : list()) {
      if (sandbox.expiredAt(now)) {
        try {
          delete(sandbox.sandboxId());
          expired.add(sandbox.sandboxId());
        } catch (SandboxNotFoundException e) {
          // deleted meanwhile
        }
      }
    }
    return expired;
  }

  private void reapSafely() {
    try {
      for (String id : deleteExpired()) {
        LOG.log(System.Logger.Level.INFO, "deleted sandbox {0}: its end time passed", id);
      }
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "deleting expired sandboxes failed", e);
    }
  }

  /**
   * Refuses new creates, waits (up to a minute) for those under way to fail and clean up, stops the
   * reaper and deletes every sandbox.
   */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      // creates under way fail when they finish and remove what they made
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
      while (!creating.isEmpty() && System.nanoTime() - deadline < 0) {
        try {
          lock.wait(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    reaper.shutdownNow();
    try {
      reaper.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    RuntimeException failure = null;
    for (Sandbox sandbox : list()) {
      try {
        delete(sandbox.sandboxId());
      } catch (SandboxNotFoundException e) {
        // deleted meanwhile
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    envd.close();
    if (failure != null) {
      throw failure;
    }
  }
}
