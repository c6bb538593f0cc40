package dev.sbx.orchestrator.lifecycle;

import static java.util.Objects.requireNonNull;

import dev.sbx.orchestrator.network.EgressPolicy;
import dev.sbx.orchestrator.network.NetworkSlot;
import dev.sbx.orchestrator.network.NetworkSlotPool;
import dev.sbx.orchestrator.proxy.SandboxAddresses;
import dev.sbx.orchestrator.runtime.ExecResult;
import dev.sbx.orchestrator.runtime.ResourceLimits;
import dev.sbx.orchestrator.runtime.RuncRuntime;
import dev.sbx.orchestrator.runtime.RunscRuntime;
import dev.sbx.orchestrator.runtime.RuntimeSandbox;
import dev.sbx.orchestrator.runtime.SandboxRuntime;
import dev.sbx.orchestrator.runtime.SandboxRuntimeException;
import dev.sbx.orchestrator.runtime.SandboxSpec;
import dev.sbx.orchestrator.template.Template;
import dev.sbx.orchestrator.template.TemplateDirectory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
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
public final class SandboxLifecycle implements SandboxAddresses, AutoCloseable {
  private static final System.Logger LOG = System.getLogger(SandboxLifecycle.class.getName());

  /** Container ids of warm sandboxes start with this (then 12 hex digits). */
  static final String WARM_PREFIX = "warm";

  /**
   * The egress rules a warm sandbox waits with: what E2B's SDKs ask for unless told otherwise
   * ({@code allowInternetAccess} true), so that most claims change no rule (a forked {@code nft}
   * costs 20–40 ms); a claim asking for other rules applies them. Until it is claimed only envd and
   * the orchestrator's warm-up command run in it.
   */
  private static final EgressPolicy WARM_EGRESS = EgressPolicy.internet();

  /**
   * How long after a claim that empties its template's pool the pool is topped up (a claim that
   * leaves one waiting: {@link WarmPoolSettings#refillDelay}).
   */
  static final java.time.Duration REFILL_DELAY = java.time.Duration.ofMillis(25);

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

  /** Container ids in use or reserved: running, being created, warm, being started warm. */
  private final Set<String> containerIds = new HashSet<>();

  private final Map<String, Optional<String>> accessTokens = new HashMap<>();

  /** The request each sandbox was made with (its /init data for a resume); absent when adopted. */
  private final Map<String, SandboxRequest> requests = new HashMap<>();

  private final Map<String, ArrayDeque<WarmSandbox>> warmPools = new HashMap<>();
  private final Map<String, Integer> warmFilling = new HashMap<>();

  /** {@link System#nanoTime} of each template's last claim from its warm pool. */
  private final Map<String, Long> lastClaimNanos = new HashMap<>();

  private final SecureRandom random = new SecureRandom();

  /**
   * Paused sandboxes whose container waits frozen, slot kept, for a resume by thawing; by sandbox
   * id, oldest first. Out of the running set and the proxy's catalog.
   */
  private final LinkedHashMap<String, FrozenSandbox> frozen = new LinkedHashMap<>();

  private int frozenLimit;
  private java.time.Duration frozenFor = java.time.Duration.ZERO;

  /** Sandbox id → slot address of the running sandboxes not being deleted: the proxy's lookup. */
  private final ConcurrentHashMap<String, String> addresses = new ConcurrentHashMap<>();

  private boolean closed;
  private volatile @Nullable Consumer<CreateTrace> createListener;

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
    // warm pools are first topped up on the reaper's first tick (or by topUpWarmPools())
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

  private int addressCount() {
    var config = network.config();
    return config.lastSlot() - config.firstSlot() + 1;
  }

  /** The most sandboxes at once: the setting, or fewer if the network has fewer addresses. */
  public int capacity() {
    var config = network.config();
    return Math.min(settings.maxSandboxes(), config.lastSlot() - config.firstSlot() + 1);
  }

  /**
   * Creates a sandbox and returns once envd in it is healthy and initialised: claimed from the
   * template's warm pool when one waits there (hostname, {@code /etc/hosts}, limits and egress set,
   * then {@code /init}), else started cold.
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
    CreateTrace trace = new CreateTrace(requireNonNull(request, "request").sandboxId());
    dropFrozenForAnAddress();
    Template template = templates.template(request.templateId());
    request = request.withDefaultsOf(template.settings());
    Path rootfs = template.rootfs();
    String id = request.sandboxId();
    WarmSandbox warm;
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("the node is shutting down");
      }
      if (sandboxes.containsKey(id) || creating.contains(id) || containerIds.contains(id)) {
        throw new SandboxExistsException(id);
      }
      int inUse = sandboxes.size() + creating.size();
      if (inUse >= settings.maxSandboxes()) {
        throw new NodeFullException(
            "node full: " + inUse + " of " + settings.maxSandboxes() + " sandboxes");
      }
      warm = pollWarm(request.templateId());
      if (warm != null) {
        lastClaimNanos.put(request.templateId(), System.nanoTime());
      }
      if (warm == null && addressesTaken() >= addressCount()) {
        throw new NodeFullException("no network address left in " + network.config().pool());
      }
      creating.add(id);
      if (warm == null) {
        containerIds.add(id);
      }
    }
    trace.warm(warm != null);
    trace.mark("template and reservation");
    String containerId = warm != null ? warm.containerId() : id;
    NetworkSlot slot = warm != null ? warm.slot() : null;
    boolean containerMade = warm != null;
    PendingEgress egress = null;
    try {
      NetworkSlot ready;
      if (warm == null) {
        // the slot blocks all egress until the request's rules are in, which a forked nft writes
        // while the container starts: nothing of the user's runs before the create returns
        ready = network.acquire(EgressPolicy.NONE);
        slot = ready;
        trace.mark("network slot");
        egress = new PendingEgress(ready, request.egress());
        ResourceLimits startLimits = startLimits(request.limits());
        runtime.create(spec(id, rootfs, startLimits, ready));
        containerMade = true;
        trace.mark("container (runtime create)");
        envd.awaitHealthy(ready.ip(), settings.healthTimeout());
        trace.mark("envd /health");
        if (!startLimits.equals(request.limits())) {
          applyLimits(id, request.limits());
          trace.mark("CPU quota of the request");
        }
        init(request, ready);
        trace.mark("envd /init");
        egress.await();
        trace.mark("egress rules (waited for)");
      } else {
        ready = warm.slot();
        claim(warm, request, rootfs, trace);
      }
      String startCommand = template.settings().startCommand();
      if (startCommand != null) {
        StartCommand.start(
            ready.ip(), rootfs, startCommand, request.accessToken(), settings.healthTimeout());
        trace.mark("template start command");
      }
      Sandbox sandbox =
          new Sandbox(
              id,
              containerId,
              request.templateId(),
              ready,
              request.limits(),
              request.metadata(),
              clock.instant(),
              request.endTime(),
              request.egress());
      SandboxRecord.write(sandboxDir(containerId), sandbox, request.accessToken());
      trace.mark("sandbox.json");
      synchronized (lock) {
        if (closed) {
          throw new IllegalStateException("the node shut down during create");
        }
        creating.remove(id);
        sandboxes.put(id, sandbox);
        accessTokens.put(id, Optional.ofNullable(request.accessToken()));
        requests.put(id, request);
        addresses.put(id, ready.ip());
      }
      trace.mark("register");
      traced(trace);
      return sandbox;
    } catch (RuntimeException e) {
      if (egress != null) {
        egress.awaitQuietly(); // before the slot is released
      }
      undoCreate(containerId, slot, containerMade, e);
      synchronized (lock) {
        containerIds.remove(containerId);
      }
      throw e;
    } finally {
      synchronized (lock) {
        creating.remove(id);
        lock.notifyAll();
      }
      if (warm != null) {
        refillAfterClaim(request.templateId());
      }
    }
  }

  /**
   * Calls {@code listener} with the steps of every create that succeeds, on the creating thread
   * after the sandbox is registered (null: no listener). For benchmarks: a slow listener slows the
   * creates.
   */
  public void onCreate(@Nullable Consumer<CreateTrace> listener) {
    createListener = listener;
  }

  private void traced(CreateTrace trace) {
    LOG.log(System.Logger.Level.DEBUG, trace::toString);
    Consumer<CreateTrace> listener = createListener;
    if (listener != null) {
      listener.accept(trace);
    }
  }

  private SandboxSpec spec(
      String containerId, Path rootfs, ResourceLimits limits, NetworkSlot slot) {
    return new SandboxSpec(
        containerId,
        rootfs,
        settings.envdDist(),
        limits,
        new LinkedHashMap<>(),
        slot.netnsPath(),
        slot.ip(),
        settings.nameservers(),
        false);
  }

  /**
   * The host's side of a claim: hostname = sandbox id (set in the container's UTS namespace from
   * the host), its bound {@code /etc/hosts} rewritten in place, the request's limits if they
   * differ, its egress policy.
   */
  private void init(SandboxRequest request, NetworkSlot slot) {
    init(request, slot, null);
  }

  /** {@code /init} with the request's data; {@code currentToken}: the token envd already has. */
  private void init(SandboxRequest request, NetworkSlot slot, @Nullable String currentToken) {
    envd.init(
        slot.ip(),
        request.envVars(),
        request.accessToken(),
        request.defaultUser(),
        request.defaultWorkdir(),
        clock.instant(),
        settings.healthTimeout(),
        currentToken);
  }

  /**
   * Makes a warm sandbox the requested one: first the normal CPU weight (a cgroup file), so that
   * its envd is not the last to run on a busy node while it answers {@code /init} (with the least
   * weight, {@code /init} took 14–25 ms during a claim instead of 10); then {@code /init} goes to
   * its envd on a virtual thread of its own while this thread changes the container from the host
   * ({@link #prepareClaimed}); the two touch nothing in common and the create waits for both. The
   * trace gets the host-side steps and then {@code envd /init} for the time the claim still waited
   * for it.
   */
  private void claim(WarmSandbox warm, SandboxRequest request, Path rootfs, CreateTrace trace) {
    runtime.foreground(warm.containerId());
    trace.mark("CPU weight");
    long initStart = System.nanoTime();
    long[] initNanos = new long[1];
    RuntimeException[] initFailure = new RuntimeException[1];
    Thread initThread =
        Thread.ofVirtual()
            .name("init-" + request.sandboxId())
            .start(
                () -> {
                  try {
                    init(request, warm.slot());
                  } catch (RuntimeException e) {
                    initFailure[0] = e;
                  } finally {
                    initNanos[0] = System.nanoTime() - initStart;
                  }
                });
    RuntimeException failure = null;
    try {
      prepareClaimed(warm, request, rootfs, trace);
    } catch (RuntimeException e) {
      failure = e;
    }
    try {
      initThread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      initThread.interrupt();
      EnvdException interrupted = new EnvdException("interrupted while initialising envd", e);
      if (failure != null) {
        interrupted.addSuppressed(failure);
      }
      throw interrupted;
    }
    trace.mark("envd /init (waited for)");
    trace.parallel("envd /init (whole, beside the host steps)", initNanos[0]);
    if (initFailure[0] != null) {
      if (failure != null) {
        initFailure[0].addSuppressed(failure);
      }
      throw initFailure[0];
    }
    if (failure != null) {
      throw failure;
    }
  }

  private void prepareClaimed(
      WarmSandbox warm, SandboxRequest request, Path rootfs, CreateTrace trace) {
    String id = request.sandboxId();
    // runc: set on a platform thread of its own while this one goes on with the files
    UtsNamespace.Pending hostname = null;
    if (runtime instanceof RuncRuntime) {
      hostname = UtsNamespace.startSetHostname(warm.pid(), id);
    } else if (runtime instanceof RunscRuntime runsc) {
      // gVisor keeps its own UTS namespace inside the sentry: set it from within
      runsc.setHostname(warm.containerId(), id, settings.healthTimeout());
    } else {
      ExecResult result =
          runtime.exec(warm.containerId(), List.of("hostname", id), settings.healthTimeout());
      if (result.exitCode() != 0) {
        throw new SandboxRuntimeException(
            "setting the hostname of " + warm.containerId() + " failed: " + result);
      }
    }
    trace.mark(hostname != null ? "hostname thread started" : "hostname (runsc: exec hostname)");
    // the same inode: the file is bind-mounted over the sandbox's /etc/hosts
    Path hosts = sandboxDir(warm.containerId()).resolve("hosts");
    try {
      Files.writeString(hosts, spec(id, rootfs, request.limits(), warm.slot()).hostsFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot rewrite " + hosts, e);
    }
    trace.mark("/etc/hosts");
    if (!request.limits().equals(warm.limits())) {
      applyLimits(warm.containerId(), request.limits());
    }
    trace.mark("cgroup limits");
    if (!request.egress().equals(WARM_EGRESS)) {
      network.updateEgress(warm.slot(), request.egress());
    }
    trace.mark("egress rules");
    if (hostname != null) {
      hostname.await();
      trace.mark("hostname (UTS setns, waited for)");
    }
  }

  /**
   * The limits a cold start's container starts with: the request's, but on runc with at least the
   * node's CPUs as its quota. envd's JVM starts on several threads (the main one, the JIT's, the
   * GC's), and a quota of one CPU made its start ≈ 100 ms slower; nothing of the user's runs before
   * the create writes the request's quota ({@link #applyLimits}, a cgroup file) once envd is
   * healthy. Other runtimes start with the request's limits (an update there forks a process).
   */
  private ResourceLimits startLimits(ResourceLimits requested) {
    int nodeCpus = Runtime.getRuntime().availableProcessors();
    if (!(runtime instanceof RuncRuntime) || requested.cpuCount() >= nodeCpus) {
      return requested;
    }
    return new ResourceLimits(nodeCpus, requested.memoryMB(), requested.pidsLimit());
  }

  /** Changes a running container's limits: runc through its cgroup files, else the runtime. */
  private void applyLimits(String containerId, ResourceLimits limits) {
    if (runtime instanceof RuncRuntime runc) {
      // the cgroup files directly: a forked runc update costs more than the rest of a claim
      CgroupLimits.apply(runc.cgroupDirs(containerId), limits);
    } else {
      runtime.updateLimits(containerId, limits);
    }
  }

  private void undoCreate(
      String containerId,
      @Nullable NetworkSlot slot,
      boolean containerMade,
      RuntimeException failure) {
    if (containerMade) {
      try {
        runtime.remove(containerId);
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

  /** The directory of a container: its OCI bundle and the sandbox's {@link SandboxRecord}. */
  public Path sandboxDir(String containerId) {
    return sandboxDir(runtime, containerId);
  }

  /** The directory of a container of {@code runtime}. */
  public static Path sandboxDir(SandboxRuntime runtime, String containerId) {
    return switch (runtime) {
      case RuncRuntime runc -> runc.sandboxDir(containerId);
      case RunscRuntime runsc -> runsc.sandboxDir(containerId);
      default -> throw new IllegalStateException("unknown runtime " + runtime.getClass().getName());
    };
  }

  // ---- frozen pauses ----

  /** A paused sandbox whose container waits frozen, since when. */
  private record FrozenSandbox(Sandbox sandbox, Instant since) {}

  /**
   * How many paused sandboxes may wait frozen (their memory in use, their address held) for a fast
   * resume, and for how long; 0 or a zero duration: none.
   */
  public void keepFrozen(int limit, java.time.Duration maxAge) {
    requireNonNull(maxAge, "maxAge");
    if (limit < 0) {
      throw new IllegalArgumentException("limit must not be negative: " + limit);
    }
    synchronized (lock) {
      frozenLimit = limit;
      frozenFor = maxAge;
    }
  }

  /** Whether a pause may leave the sandbox frozen: the runtime can freeze and the limits allow. */
  public boolean canKeepFrozen() {
    synchronized (lock) {
      return frozenLimit > 0 && frozenFor.isPositive() && runtime.canFreeze() && !closed;
    }
  }

  /**
   * Pauses a running sandbox in memory: takes it out of the running set and the proxy's catalog,
   * freezes its container (cgroup freezer) and runs {@code saver} on it (which saves its state);
   * then the container waits frozen, with its slot, until {@link #thaw} resumes it or it is dropped
   * ({@link #dropFrozen}, the limits of {@link #keepFrozen}, an address needed, {@link #close}). If
   * freezing or {@code saver} fails, the sandbox is thawed and runs on.
   *
   * @throws SandboxNotFoundException if it does not run here (or is being deleted)
   */
  public <T> T freezeAndSave(String sandboxId, java.util.function.Function<Sandbox, T> saver) {
    requireNonNull(sandboxId, "sandboxId");
    requireNonNull(saver, "saver");
    Sandbox sandbox = takeOutOfService(sandboxId);
    T result;
    try {
      runtime.freeze(sandbox.containerId());
      result = saver.apply(sandbox);
    } catch (RuntimeException e) {
      runtime.thaw(sandbox.containerId());
      synchronized (lock) {
        deleting.remove(sandboxId);
        addresses.put(sandboxId, sandbox.slot().ip());
      }
      throw e;
    }
    synchronized (lock) {
      deleting.remove(sandboxId);
      sandboxes.remove(sandboxId);
      accessTokens.remove(sandboxId);
      requests.remove(sandboxId);
      frozen.put(sandboxId, new FrozenSandbox(sandbox, clock.instant()));
    }
    return result;
  }

  /**
   * Resumes a sandbox that {@link #freezeAndSave} left frozen: thaws it, sends envd {@code /init}
   * with the request's environment and token ({@code currentToken}: the token envd has) and
   * registers it as running with the request's end time, in its old slot. If that fails the frozen
   * container is removed (what was saved remains) and the exception thrown.
   *
   * @return empty if the sandbox is not frozen here
   */
  public Optional<Sandbox> thaw(SandboxRequest request, @Nullable String currentToken) {
    requireNonNull(request, "request");
    String id = request.sandboxId();
    FrozenSandbox entry;
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("the node is shutting down");
      }
      entry = frozen.remove(id);
      if (entry == null) {
        return Optional.empty();
      }
      creating.add(id);
    }
    Sandbox old = entry.sandbox();
    try {
      if (!runtime.thaw(old.containerId())) {
        throw new SandboxRuntimeException("thawing " + old.containerId() + " failed");
      }
      init(request, old.slot(), currentToken);
      return Optional.of(register(request, old.containerId(), old.slot()));
    } catch (RuntimeException e) {
      try {
        removeFrozen(entry);
      } catch (RuntimeException removeFailed) {
        e.addSuppressed(removeFailed);
      }
      throw e;
    } finally {
      synchronized (lock) {
        creating.remove(id);
        lock.notifyAll();
      }
    }
  }

  /**
   * Removes the container of a sandbox {@link #freezeAndSave} left frozen and releases its slot.
   *
   * @return false if none is frozen under that id
   */
  public boolean dropFrozen(String sandboxId) {
    requireNonNull(sandboxId, "sandboxId");
    FrozenSandbox entry;
    synchronized (lock) {
      entry = frozen.remove(sandboxId);
    }
    if (entry == null) {
      return false;
    }
    removeFrozen(entry);
    return true;
  }

  /** Ids of the paused sandboxes waiting frozen, oldest first. */
  public List<String> frozenIds() {
    synchronized (lock) {
      return List.copyOf(frozen.keySet());
    }
  }

  /**
   * Drops the frozen sandboxes beyond the limit (oldest first) and those older than allowed; then,
   * while the host is short of memory ({@link #memoryLow}), the oldest one at a time.
   */
  public void dropFrozenOverLimits() {
    dropFrozenOverCountAndAge();
    for (int left = frozenCount(); left > 0 && memoryLow(readMeminfo()); left--) {
      FrozenSandbox oldest = pollOldestFrozen(false);
      if (oldest == null) {
        return;
      }
      drop(oldest, "the host is short of memory");
    }
  }

  private int frozenCount() {
    synchronized (lock) {
      return frozen.size();
    }
  }

  /**
   * Takes the oldest frozen sandbox out of the frozen set; null if there is none, or if {@code
   * onlyIfAddressesTaken} and an address is still free.
   */
  private @Nullable FrozenSandbox pollOldestFrozen(boolean onlyIfAddressesTaken) {
    synchronized (lock) {
      if (frozen.isEmpty() || (onlyIfAddressesTaken && addressesTaken() < addressCount())) {
        return null;
      }
      var first = frozen.entrySet().iterator().next();
      frozen.remove(first.getKey());
      return first.getValue();
    }
  }

  private void drop(FrozenSandbox entry, String why) {
    LOG.log(
        System.Logger.Level.INFO,
        "dropping frozen sandbox {0} (its saved state stays): {1}",
        entry.sandbox().sandboxId(),
        why);
    removeFrozen(entry);
  }

  /**
   * Whether {@code /proc/meminfo}'s text says the host is short of memory: less than a tenth of its
   * memory available. A frozen sandbox keeps what it uses; this is when that memory is needed more
   * than a fast resume. False if the text lacks the fields.
   */
  static boolean memoryLow(String meminfo) {
    long total = -1;
    long available = -1;
    for (String line : meminfo.split("\n")) {
      String[] fields = line.trim().split("\\s+");
      if (fields.length >= 2 && fields[0].equals("MemTotal:")) {
        total = Long.parseLong(fields[1]);
      } else if (fields.length >= 2 && fields[0].equals("MemAvailable:")) {
        available = Long.parseLong(fields[1]);
      }
    }
    return total > 0 && available >= 0 && available * 10 < total;
  }

  private static String readMeminfo() {
    try {
      return Files.readString(Path.of("/proc/meminfo"));
    } catch (IOException e) {
      return "";
    }
  }

  private void dropFrozenOverCountAndAge() {
    List<FrozenSandbox> drop = new ArrayList<>();
    synchronized (lock) {
      Instant oldest = clock.instant().minus(frozenFor);
      var entries = frozen.values().iterator();
      while (entries.hasNext()) {
        FrozenSandbox entry = entries.next();
        if (frozen.size() > frozenLimit || !entry.since().isAfter(oldest)) {
          drop.add(entry);
          entries.remove();
        }
      }
    }
    for (FrozenSandbox entry : drop) {
      drop(entry, "over the limit or too old");
    }
  }

  /** Drops the oldest frozen sandbox if the addresses are all taken and one is frozen. */
  private void dropFrozenForAnAddress() {
    FrozenSandbox oldest = pollOldestFrozen(true);
    if (oldest != null) {
      drop(oldest, "a new sandbox needs its address");
    }
  }

  private void removeFrozen(FrozenSandbox entry) {
    Sandbox sandbox = entry.sandbox();
    try {
      runtime.remove(sandbox.containerId());
      network.release(sandbox.slot());
    } finally {
      synchronized (lock) {
        containerIds.remove(sandbox.containerId());
      }
    }
  }

  // ---- warm pool ----

  /**
   * A slot's egress rules being written on a virtual thread of its own (nothing to do for {@link
   * EgressPolicy#NONE}, which an acquired slot has already).
   */
  private final class PendingEgress {
    private final @Nullable Thread thread;
    private volatile @Nullable RuntimeException failure;

    PendingEgress(NetworkSlot slot, EgressPolicy policy) {
      thread =
          policy.equals(EgressPolicy.NONE)
              ? null
              : Thread.ofVirtual()
                  .name("egress-" + slot.index())
                  .start(
                      () -> {
                        try {
                          network.updateEgress(slot, policy);
                        } catch (RuntimeException e) {
                          failure = e;
                        }
                      });
    }

    /** Waits until the rules are in; throws what writing them threw. */
    void await() {
      awaitQuietly();
      RuntimeException thrown = failure;
      if (thrown != null) {
        throw thrown;
      }
    }

    /** Waits until the writer is done, whatever its outcome. */
    void awaitQuietly() {
      if (thread == null) {
        return;
      }
      boolean interrupted = false;
      while (true) {
        try {
          thread.join();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** A started sandbox waiting in its template's pool: envd healthy, not {@code /init}ed. */
  private record WarmSandbox(
      String containerId, String templateId, NetworkSlot slot, int pid, ResourceLimits limits) {}

  private @Nullable WarmSandbox pollWarm(String templateId) {
    ArrayDeque<WarmSandbox> pool = warmPools.get(templateId);
    return pool == null ? null : pool.pollFirst();
  }

  /**
   * Network addresses held now (under the lock): running sandboxes, those being created, warm ones
   * (waiting or being started) and frozen ones.
   */
  private int addressesTaken() {
    return sandboxes.size() + creating.size() + warmCount() + frozen.size();
  }

  /** Warm sandboxes waiting and being started, all templates. */
  private int warmCount() {
    int count = 0;
    for (ArrayDeque<WarmSandbox> pool : warmPools.values()) {
      count += pool.size();
    }
    for (int filling : warmFilling.values()) {
      count += filling;
    }
    return count;
  }

  /** Warm sandboxes waiting to be claimed, by template id (templates without a pool left out). */
  public Map<String, Integer> warmPoolCounts() {
    synchronized (lock) {
      Map<String, Integer> counts = new TreeMap<>();
      warmPools.forEach(
          (template, pool) -> {
            if (!pool.isEmpty()) {
              counts.put(template, pool.size());
            }
          });
      return counts;
    }
  }

  /**
   * Tops the pools up after a claim of {@code templateId}: {@link #REFILL_DELAY} later if the claim
   * emptied the template's pool (the claimed sandbox's create answers first, and then the refill's
   * runtime process starts), else {@link WarmPoolSettings#refillDelay} later (see there).
   */
  private void refillAfterClaim(String templateId) {
    java.time.Duration delay;
    synchronized (lock) {
      ArrayDeque<WarmSandbox> pool = warmPools.get(templateId);
      delay = pool == null || pool.isEmpty() ? REFILL_DELAY : settings.warmPool().refillDelay();
    }
    try {
      reaper.schedule(this::topUpWarmPools, delay.toNanos(), TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closing: no refill
    }
  }

  /**
   * Starts (in the background) as many warm sandboxes as the templates' pools lack, as far as the
   * network's addresses allow next to the running sandboxes. A pool that still holds a warm sandbox
   * and was claimed from less than {@link WarmPoolSettings#refillDelay} ago is left for later.
   */
  public void topUpWarmPools() {
    WarmPoolSettings pools = settings.warmPool();
    if (pools.off()) {
      return;
    }
    List<String> ids;
    try {
      ids = templates.ids();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "listing templates for the warm pool failed", e);
      return;
    }
    List<String> toStart = new ArrayList<>();
    synchronized (lock) {
      if (closed) {
        return;
      }
      int inUse = sandboxes.size() + creating.size();
      // warm sandboxes take addresses, never a place a create could use
      int room = Math.min(capacity() - inUse, addressCount() - addressesTaken());
      long now = System.nanoTime();
      for (String templateId : ids) {
        ArrayDeque<WarmSandbox> pool = warmPools.get(templateId);
        int waiting = pool == null ? 0 : pool.size();
        Long lastClaim = lastClaimNanos.get(templateId);
        if (waiting > 0 && lastClaim != null && now - lastClaim < pools.refillDelay().toNanos()) {
          continue; // its last claim's first commands run now; refillAfterClaim comes back
        }
        int have = waiting + warmFilling.getOrDefault(templateId, 0);
        while (have < pools.size(templateId) && room > 0) {
          warmFilling.merge(templateId, 1, Integer::sum);
          toStart.add(templateId);
          have++;
          room--;
        }
      }
    }
    for (String templateId : toStart) {
      Thread.ofVirtual().name("warm-" + templateId).start(() -> startWarm(templateId));
    }
  }

  private void startWarm(String templateId) {
    String containerId;
    synchronized (lock) {
      do {
        containerId = WARM_PREFIX + HexFormat.of().toHexDigits(random.nextLong()).substring(4);
      } while (containerIds.contains(containerId)
          || sandboxes.containsKey(containerId)
          || creating.contains(containerId));
      containerIds.add(containerId);
    }
    NetworkSlot slot = null;
    boolean containerMade = false;
    try {
      Template template = templates.template(templateId);
      Path rootfs = template.rootfs();
      slot = network.acquire(WARM_EGRESS);
      RuntimeSandbox started =
          runtime.create(spec(containerId, rootfs, ResourceLimits.DEFAULT, slot).inBackground());
      containerMade = true;
      envd.awaitHealthy(slot.ip(), settings.healthTimeout());
      // envd runs its /init path once now, not when a create waits for it
      envd.warmUp(slot.ip(), clock.instant(), settings.healthTimeout());
      // and its process path once (see EnvdClient.warmUpCommand), not on the user's first command;
      // a failure here costs only that speed: the sandbox still joins the pool
      try {
        // as a claim most likely runs it: the template's user, through bash -l as E2B's SDKs do
        envd.warmUpCommand(
            slot.ip(),
            template.settings().defaultUser(),
            Files.isExecutable(rootfs.resolve("bin/bash")),
            settings.healthTimeout());
      } catch (EnvdException e) {
        LOG.log(
            System.Logger.Level.WARNING,
            "the warm-up command of warm sandbox " + containerId + " failed",
            e);
      }
      synchronized (lock) {
        if (closed) {
          throw new IllegalStateException("the node shut down");
        }
        warmPools
            .computeIfAbsent(templateId, t -> new ArrayDeque<>())
            .addLast(
                new WarmSandbox(
                    containerId, templateId, slot, started.pid(), ResourceLimits.DEFAULT));
      }
    } catch (RuntimeException e) {
      undoCreate(containerId, slot, containerMade, e);
      synchronized (lock) {
        containerIds.remove(containerId);
      }
      if (!isClosed()) {
        LOG.log(
            System.Logger.Level.WARNING, "starting a warm sandbox of " + templateId + " failed", e);
      }
    } finally {
      synchronized (lock) {
        warmFilling.merge(templateId, -1, Integer::sum);
        lock.notifyAll();
      }
    }
  }

  private boolean isClosed() {
    synchronized (lock) {
      return closed;
    }
  }

  /**
   * Takes over a sandbox a previous orchestrator left running (crash recovery): registers it from
   * its record with its adopted slot; from then on it is listed, routed by the proxy, updated,
   * reaped at its end time and deleted like any other.
   *
   * @throws SandboxExistsException if the id or container id is already known
   */
  public Sandbox adopt(SandboxRecord record, NetworkSlot slot) {
    requireNonNull(record, "record");
    requireNonNull(slot, "slot");
    Sandbox sandbox =
        new Sandbox(
            record.sandboxId(),
            record.containerId(),
            record.templateId(),
            slot,
            record.limits(),
            record.metadata(),
            record.startTime(),
            record.endTime(),
            record.egress());
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("the node is shutting down");
      }
      if (sandboxes.containsKey(record.sandboxId())
          || containerIds.contains(record.containerId())) {
        throw new SandboxExistsException(record.sandboxId());
      }
      sandboxes.put(record.sandboxId(), sandbox);
      containerIds.add(record.containerId());
      accessTokens.put(record.sandboxId(), Optional.ofNullable(record.accessToken()));
      addresses.put(record.sandboxId(), slot.ip());
    }
    return sandbox;
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

  /**
   * The slot address of a running sandbox (not one being created or deleted), or null; answers from
   * a concurrent map without taking the lifecycle's lock, so the node proxy's event loops never
   * wait.
   */
  @Override
  public @Nullable String address(String sandboxId) {
    return addresses.get(sandboxId);
  }

  /**
   * The container ids this lifecycle owns now: its sandboxes', those being created and the warm
   * ones (waiting or being started).
   */
  public Set<String> containerIds() {
    synchronized (lock) {
      return Set.copyOf(containerIds);
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
    Sandbox sandbox = takeOutOfService(sandboxId);
    boolean containerRemoved = false;
    try {
      runtime.remove(sandbox.containerId());
      containerRemoved = true;
      network.release(sandbox.slot());
    } finally {
      synchronized (lock) {
        deleting.remove(sandboxId);
        if (containerRemoved) {
          // a failed slot release leaves its index taken in the pool, nothing in the sandbox
          sandboxes.remove(sandboxId);
          accessTokens.remove(sandboxId);
          requests.remove(sandboxId);
          containerIds.remove(sandbox.containerId());
        } else {
          addresses.put(sandboxId, sandbox.slot().ip());
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
      persist(updated);
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
      persist(updated);
      sandboxes.put(sandboxId, updated);
      return updated;
    }
  }

  // ---- hooks for pause and resume (dev.sbx.orchestrator.pause) ----

  /** The request a running sandbox was created with; empty if unknown (adopted after a restart). */
  public Optional<SandboxRequest> request(String sandboxId) {
    synchronized (lock) {
      return Optional.ofNullable(requests.get(sandboxId));
    }
  }

  /** envd's access token of a running sandbox (null: none). */
  public @Nullable String accessToken(String sandboxId) {
    synchronized (lock) {
      return accessTokens.getOrDefault(sandboxId, Optional.empty()).orElse(null);
    }
  }

  /**
   * Marks a running sandbox as being deleted (no other delete, pause or stop meanwhile) and takes
   * it out of the proxy's catalog.
   *
   * @throws SandboxNotFoundException if there is no such sandbox (or it is being deleted)
   */
  private Sandbox takeOutOfService(String sandboxId) {
    synchronized (lock) {
      Sandbox sandbox = sandboxes.get(sandboxId);
      if (sandbox == null || !deleting.add(sandboxId)) {
        throw new SandboxNotFoundException(sandboxId);
      }
      addresses.remove(sandboxId);
      return sandbox;
    }
  }

  /**
   * Takes a running sandbox out of service for {@code stopper} (a pause): no longer routed, not
   * deletable meanwhile. When {@code stopper} returns, its container must be gone: the slot is
   * released and the sandbox forgotten. When it throws, the sandbox is routed again if its
   * container still runs, else removed; the exception is rethrown.
   *
   * @throws SandboxNotFoundException if there is no such sandbox (or it is being deleted)
   */
  public <T> T stop(String sandboxId, java.util.function.Function<Sandbox, T> stopper) {
    requireNonNull(sandboxId, "sandboxId");
    requireNonNull(stopper, "stopper");
    Sandbox sandbox = takeOutOfService(sandboxId);
    T result;
    try {
      result = stopper.apply(sandbox);
    } catch (RuntimeException e) {
      boolean running;
      try {
        running =
            runtime
                .find(sandbox.containerId())
                .map(found -> found.state() == dev.sbx.orchestrator.runtime.SandboxState.RUNNING)
                .orElse(false);
      } catch (RuntimeException findFailed) {
        e.addSuppressed(findFailed);
        running = false;
      }
      synchronized (lock) {
        deleting.remove(sandboxId);
        if (running) {
          addresses.put(sandboxId, sandbox.slot().ip());
        }
      }
      if (!running) {
        try {
          delete(sandboxId);
        } catch (RuntimeException deleteFailed) {
          e.addSuppressed(deleteFailed);
        }
      }
      throw e;
    }
    try {
      network.release(sandbox.slot());
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "releasing the slot of " + sandboxId + " failed", e);
    } finally {
      synchronized (lock) {
        deleting.remove(sandboxId);
        sandboxes.remove(sandboxId);
        accessTokens.remove(sandboxId);
        requests.remove(sandboxId);
        containerIds.remove(sandbox.containerId());
      }
    }
    return result;
  }

  /**
   * Starts a sandbox as {@link #create} does (id reserved, slot acquired, envd healthy and {@code
   * /init}ed, registered), but its container made by {@code starter} (a restore) from the spec this
   * node would give it. With {@code setHostname} the hostname is set to the sandbox id afterwards
   * (a restored checkpoint of another sandbox keeps that one's). Never from a warm pool. If a step
   * after {@code starter} fails, {@code remover} removes the container (e.g. giving a moved upper
   * directory back) before the slot is released. {@code currentToken}: the access token envd in a
   * restored checkpoint already has (null: none).
   */
  public Sandbox start(
      SandboxRequest request,
      java.util.function.Function<SandboxSpec, RuntimeSandbox> starter,
      java.util.function.Consumer<String> remover,
      boolean setHostname,
      @Nullable String currentToken) {
    requireNonNull(request, "request");
    requireNonNull(starter, "starter");
    Path rootfs = templates.template(request.templateId()).rootfs();
    dropFrozenForAnAddress();
    String id = request.sandboxId();
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("the node is shutting down");
      }
      if (sandboxes.containsKey(id) || creating.contains(id) || containerIds.contains(id)) {
        throw new SandboxExistsException(id);
      }
      int inUse = sandboxes.size() + creating.size();
      if (inUse >= settings.maxSandboxes()) {
        throw new NodeFullException(
            "node full: " + inUse + " of " + settings.maxSandboxes() + " sandboxes");
      }
      if (addressesTaken() >= addressCount()) {
        throw new NodeFullException("no network address left in " + network.config().pool());
      }
      creating.add(id);
      containerIds.add(id);
    }
    NetworkSlot slot = null;
    boolean containerMade = false;
    try {
      slot = network.acquire(request.egress());
      RuntimeSandbox started = starter.apply(spec(id, rootfs, request.limits(), slot));
      containerMade = true;
      if (setHostname) {
        if (runtime instanceof RuncRuntime) {
          UtsNamespace.setHostname(started.pid(), id);
        } else {
          ExecResult result = runtime.exec(id, List.of("hostname", id), settings.healthTimeout());
          if (result.exitCode() != 0) {
            throw new SandboxRuntimeException(
                "setting the hostname of " + id + " failed: " + result);
          }
        }
      }
      envd.awaitHealthy(slot.ip(), settings.healthTimeout());
      init(request, slot, currentToken);
      return register(request, id, slot);
    } catch (RuntimeException e) {
      // the starter removed what it made if it failed; a later failure removes the container
      if (containerMade) {
        try {
          remover.accept(id);
        } catch (RuntimeException removeFailed) {
          e.addSuppressed(removeFailed);
        }
      }
      undoCreate(id, slot, false, e);
      synchronized (lock) {
        containerIds.remove(id);
      }
      throw e;
    } finally {
      synchronized (lock) {
        creating.remove(id);
        lock.notifyAll();
      }
    }
  }

  /**
   * Makes the request's sandbox in {@code containerId} and {@code slot}, started now, writes its
   * record and registers it as running (listed, routed by the proxy).
   *
   * @throws IllegalStateException if the node shut down meanwhile
   */
  private Sandbox register(SandboxRequest request, String containerId, NetworkSlot slot) {
    String id = request.sandboxId();
    Sandbox sandbox =
        new Sandbox(
            id,
            containerId,
            request.templateId(),
            slot,
            request.limits(),
            request.metadata(),
            clock.instant(),
            request.endTime(),
            request.egress());
    SandboxRecord.write(sandboxDir(containerId), sandbox, request.accessToken());
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("the node shut down before " + id + " was registered");
      }
      sandboxes.put(id, sandbox);
      accessTokens.put(id, Optional.ofNullable(request.accessToken()));
      requests.put(id, request);
      addresses.put(id, slot.ip());
    }
    return sandbox;
  }

  /** Rewrites the sandbox's record (under the lock, so updates are written in order). */
  private void persist(Sandbox sandbox) {
    SandboxRecord.write(
        sandboxDir(sandbox.containerId()),
        sandbox,
        accessTokens.getOrDefault(sandbox.sandboxId(), Optional.empty()).orElse(null));
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

  private int warmWaiting() {
    int count = 0;
    for (ArrayDeque<WarmSandbox> pool : warmPools.values()) {
      count += pool.size();
    }
    return count;
  }

  private void reapSafely() {
    try {
      dropFrozenOverLimits();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "dropping frozen sandboxes failed", e);
    }
    topUpWarmPools();
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
   * reaper, removes the warm sandboxes and deletes every sandbox.
   */
  @Override
  public void close() {
    close(false);
  }

  /**
   * As {@link #close()}, but with {@code keepSandboxes} the sandboxes go on running (their records
   * stay, so the next orchestrator adopts them); warm sandboxes are removed either way.
   */
  public void close(boolean keepSandboxes) {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      // creates under way fail when they finish and remove what they made
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
      while ((!creating.isEmpty() || warmCount() > warmWaiting())
          && System.nanoTime() - deadline < 0) {
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
    List<WarmSandbox> warm = new ArrayList<>();
    synchronized (lock) {
      warmPools.values().forEach(warm::addAll);
      warmPools.clear();
    }
    for (WarmSandbox sandbox : warm) {
      try {
        runtime.remove(sandbox.containerId());
        network.release(sandbox.slot());
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    // their saved state is complete on disk: a resume after the restart restores it
    List<FrozenSandbox> frozenNow;
    synchronized (lock) {
      frozenNow = List.copyOf(frozen.values());
      frozen.clear();
    }
    for (FrozenSandbox sandbox : frozenNow) {
      try {
        removeFrozen(sandbox);
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    for (Sandbox sandbox : keepSandboxes ? List.<Sandbox>of() : list()) {
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
