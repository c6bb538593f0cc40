package dev.sbx.orchestrator.pause;

import static java.util.Objects.requireNonNull;

import dev.sbx.orchestrator.lifecycle.Sandbox;
import dev.sbx.orchestrator.lifecycle.SandboxLifecycle;
import dev.sbx.orchestrator.lifecycle.SandboxNotFoundException;
import dev.sbx.orchestrator.lifecycle.SandboxRequest;
import dev.sbx.orchestrator.runtime.RuncRuntime;
import dev.sbx.orchestrator.runtime.RunscRuntime;
import dev.sbx.orchestrator.runtime.SandboxRuntime;
import dev.sbx.orchestrator.runtime.SandboxRuntimeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Pause and resume, snapshots and fork of this node's sandboxes.
 *
 * <p><b>Pause</b>: the sandbox leaves the running set (no longer routed), its memory and processes
 * are checkpointed when asked and the runtime can ({@link SandboxRuntime#canCheckpoint()}), its
 * container is removed with the overlay's upper directory moved (renamed) into the save, its
 * network slot is released, and the record is written last. A resume takes any free slot: the
 * sandbox comes back on a new address. That is safe because no TCP connection survives a pause
 * either way (CRIU closes established ones on restore, {@code tcp-close}; gVisor disconnects them,
 * {@code --net-disconnect-ok}); listening sockets are bound to the wildcard address and keep
 * listening. {@code /etc/hosts} is written anew with the new address.
 *
 * <p><b>Frozen pause</b> (runc with CRIU, {@link SavedStateSettings#frozenLimit()} above 0): the
 * sandbox is frozen (cgroup freezer), its state saved as above but with a leave-running checkpoint
 * and a copy of the upper directory, and its container then waits frozen in memory, slot and
 * address kept, so that a resume only thaws it and {@code /init}s envd again (connections held open
 * survive). It is dropped (container removed, slot released: its saved state is what remains) when
 * more than the limit wait or after {@link SavedStateSettings#frozenFor()}, while the host is short
 * of memory, when a create needs its address, when the paused sandbox is killed and when the node
 * stops.
 *
 * <p><b>Resume</b>: same id, a new end time, the saved upper directory moved back, the checkpoint
 * restored (or a cold boot on the files), envd {@code /init}ed again with the saved environment,
 * user, workdir and the token; then the save is deleted. If it fails, the upper directory goes back
 * into the save and the sandbox stays paused.
 *
 * <p><b>Quota</b>: before a pause or snapshot the saved state it will need is estimated (the upper
 * directory's bytes plus, with memory, the sandbox's cgroup memory usage); when that would exceed
 * {@link SavedStateSettings#quotaBytes()} or the disk's free space it is refused and the sandbox
 * keeps running.
 *
 * <p>Thread-safe.
 */
public final class PauseService {
  private static final System.Logger LOG = System.getLogger(PauseService.class.getName());

  private static final Pattern SNAPSHOT_ID = Pattern.compile("[A-Za-z0-9._:/-]{1,128}");

  private final SandboxLifecycle lifecycle;
  private final SandboxRuntime runtime;
  private final SavedStateStore store;
  private final SavedStateSettings settings;
  private final InstantSource clock;
  private final Object lock = new Object();

  /** Sandbox ids being paused or resumed. */
  private final Set<String> busy = new HashSet<>();

  public PauseService(
      SandboxLifecycle lifecycle,
      SavedStateStore store,
      SavedStateSettings settings,
      InstantSource clock) {
    this.lifecycle = requireNonNull(lifecycle, "lifecycle");
    this.runtime = lifecycle.runtime();
    this.store = requireNonNull(store, "store");
    this.settings = requireNonNull(settings, "settings");
    this.clock = requireNonNull(clock, "clock");
    lifecycle.keepFrozen(settings.frozenLimit(), settings.frozenFor());
  }

  public SavedStateStore store() {
    return store;
  }

  public SavedStateSettings settings() {
    return settings;
  }

  /**
   * Pauses a running sandbox.
   *
   * @throws SandboxNotFoundException if it neither runs nor is paused here
   * @throws AlreadyPausedException if it is paused, or being paused or resumed
   * @throws SavedStateQuotaException if the save would exceed the quota or the free disk space
   * @throws SandboxRuntimeException if the checkpoint failed (the sandbox runs on if it can)
   */
  public SavedRecord pause(String sandboxId, boolean memory) {
    requireNonNull(sandboxId, "sandboxId");
    claim(sandboxId);
    try {
      Sandbox sandbox =
          lifecycle.get(sandboxId).orElseThrow(() -> new SandboxNotFoundException(sandboxId));
      boolean keepMemory = memory && runtime.canCheckpoint();
      checkQuota(sandbox, keepMemory);
      SandboxRequest request = lifecycle.request(sandboxId).orElse(null);
      String token = lifecycle.accessToken(sandboxId);
      if (keepMemory && lifecycle.canKeepFrozen()) {
        SavedRecord saved =
            lifecycle.freezeAndSave(
                sandboxId,
                frozen ->
                    save(
                        store.begin(SavedRecord.Kind.PAUSED, sandboxId),
                        path -> saveFrozen(frozen, path, true),
                        record(SavedRecord.Kind.PAUSED, sandboxId, frozen, true, token, request)));
        lifecycle.dropFrozenOverLimits();
        return saved;
      }
      return lifecycle.stop(
          sandboxId,
          running ->
              save(
                  store.begin(SavedRecord.Kind.PAUSED, sandboxId),
                  path -> {
                    if (keepMemory) {
                      runtime.checkpoint(
                          running.containerId(),
                          path.resolve("image"),
                          false,
                          settings.checkpointTimeout());
                    }
                    runtime.removeKeepingUpper(running.containerId(), path.resolve("upper"));
                  },
                  record(SavedRecord.Kind.PAUSED, sandboxId, running, keepMemory, token, request)));
    } finally {
      release(sandboxId);
    }
  }

  private SavedRecord record(
      SavedRecord.Kind kind,
      String id,
      Sandbox sandbox,
      boolean memoryKept,
      @Nullable String token,
      @Nullable SandboxRequest request) {
    return new SavedRecord(
        kind,
        id,
        sandbox.sandboxId(),
        sandbox.templateId(),
        sandbox.limits(),
        sandbox.metadata(),
        sandbox.startTime(),
        clock.instant(),
        memoryKept,
        0,
        sandbox.egress(),
        token,
        request != null ? request.envVars() : new LinkedHashMap<>(),
        request != null ? request.defaultUser() : null,
        request != null ? request.defaultWorkdir() : null);
  }

  private void claim(String sandboxId) {
    synchronized (lock) {
      if (store.get(SavedRecord.Kind.PAUSED, sandboxId).isPresent()) {
        throw new AlreadyPausedException("sandbox " + sandboxId + " is already paused");
      }
      if (!busy.add(sandboxId)) {
        throw new AlreadyPausedException("sandbox " + sandboxId + " is being paused or resumed");
      }
    }
  }

  private void release(String sandboxId) {
    synchronized (lock) {
      busy.remove(sandboxId);
    }
  }

  /** Refuses a save whose estimated size exceeds the quota's room or the disk's free space. */
  private void checkQuota(Sandbox sandbox, boolean memory) {
    long estimate =
        SavedStateStore.sizeOf(lifecycle.sandboxDir(sandbox.containerId()).resolve("upper"))
            + (memory ? memoryUsage(sandbox) : 0);
    long used = store.usedBytes();
    long quota = settings.quotaBytes();
    if (quota > 0 && used + estimate > quota) {
      throw new SavedStateQuotaException(
          "saved-state quota exceeded: "
              + used
              + " of "
              + quota
              + " bytes used, saving "
              + sandbox.sandboxId()
              + " needs about "
              + estimate);
    }
    long usable = store.usableBytes();
    if (estimate > usable) {
      throw new SavedStateQuotaException(
          "not enough disk for saved state: "
              + usable
              + " bytes free, about "
              + estimate
              + " needed");
    }
  }

  /**
   * A running sandbox's memory use as its cgroup counts it (what a checkpoint with memory will
   * roughly need).
   *
   * @throws SandboxNotFoundException if it does not run here
   */
  public long memoryUsage(String sandboxId) {
    return memoryUsage(
        lifecycle.get(sandboxId).orElseThrow(() -> new SandboxNotFoundException(sandboxId)));
  }

  /** The sandbox's memory use from its cgroup (v1 usage, v2 current), else its limit. */
  private long memoryUsage(Sandbox sandbox) {
    List<Path> cgroups =
        switch (runtime) {
          case RuncRuntime runc -> runc.cgroupDirs(sandbox.containerId());
          case RunscRuntime runsc -> runsc.cgroupDirs(sandbox.containerId());
          default -> List.of();
        };
    for (Path cgroup : cgroups) {
      for (String file : List.of("memory.usage_in_bytes", "memory.current")) {
        Path usage = cgroup.resolve(file);
        if (Files.isRegularFile(usage)) {
          try {
            return Long.parseLong(Files.readString(usage).strip());
          } catch (IOException | NumberFormatException e) {
            // fall back to the limit
          }
        }
      }
    }
    return sandbox.limits().memoryBytes();
  }

  /**
   * Resumes a paused sandbox under its id: a new end time (null: none), {@code accessToken} as
   * envd's new token (null: the one it had).
   *
   * @throws SavedStateNotFoundException if nothing is paused under that id
   * @throws AlreadyPausedException if it is being paused or resumed
   */
  public Sandbox resume(String sandboxId, @Nullable Instant endTime, @Nullable String accessToken) {
    requireNonNull(sandboxId, "sandboxId");
    SavedRecord saved;
    synchronized (lock) {
      saved =
          store
              .get(SavedRecord.Kind.PAUSED, sandboxId)
              .orElseThrow(() -> new SavedStateNotFoundException("no paused sandbox " + sandboxId));
      if (!busy.add(sandboxId)) {
        throw new AlreadyPausedException("sandbox " + sandboxId + " is being paused or resumed");
      }
    }
    try {
      Path path = store.path(SavedRecord.Kind.PAUSED, sandboxId);
      Path upper = path.resolve("upper");
      @Nullable Path image = saved.memoryKept() ? path.resolve("image") : null;
      SandboxRequest request =
          request(
              saved, sandboxId, endTime, accessToken != null ? accessToken : saved.accessToken());
      Optional<Sandbox> thawed = thawFrozen(request, saved);
      if (thawed.isPresent()) {
        store.delete(SavedRecord.Kind.PAUSED, sandboxId);
        return thawed.get();
      }
      Sandbox sandbox =
          lifecycle.start(
              request,
              spec -> runtime.restore(spec, upper, true, image),
              containerId -> runtime.removeKeepingUpper(containerId, upper),
              false,
              saved.memoryKept() ? saved.accessToken() : null);
      store.delete(SavedRecord.Kind.PAUSED, sandboxId);
      return sandbox;
    } finally {
      release(sandboxId);
    }
  }

  /**
   * Resumes the sandbox by thawing it if it still waits frozen; empty if not, or if that failed
   * (then its saved state is restored instead).
   */
  private Optional<Sandbox> thawFrozen(SandboxRequest request, SavedRecord saved) {
    try {
      return lifecycle.thaw(request, saved.accessToken());
    } catch (RuntimeException e) {
      LOG.log(
          System.Logger.Level.WARNING,
          "thawing frozen sandbox " + request.sandboxId() + " failed, restoring its saved state",
          e);
      return Optional.empty();
    }
  }

  private static SandboxRequest request(
      SavedRecord saved, String sandboxId, @Nullable Instant endTime, @Nullable String token) {
    return new SandboxRequest(
        sandboxId,
        saved.templateId(),
        saved.limits(),
        saved.envVars(),
        saved.metadata(),
        token,
        saved.defaultUser(),
        saved.defaultWorkdir(),
        endTime,
        saved.egress());
  }

  public List<SavedRecord> listPaused() {
    return store.list(SavedRecord.Kind.PAUSED);
  }

  /**
   * Deletes a paused sandbox's saved state, and its container if it still waits frozen.
   *
   * @throws SavedStateNotFoundException if nothing is paused under that id
   * @throws AlreadyPausedException if it is being resumed
   */
  public void deletePaused(String sandboxId) {
    requireNonNull(sandboxId, "sandboxId");
    synchronized (lock) {
      if (busy.contains(sandboxId)) {
        throw new AlreadyPausedException("sandbox " + sandboxId + " is being paused or resumed");
      }
      if (!store.delete(SavedRecord.Kind.PAUSED, sandboxId)) {
        throw new SavedStateNotFoundException("no paused sandbox " + sandboxId);
      }
    }
    lifecycle.dropFrozen(sandboxId);
  }

  // ---- snapshots and fork ----

  /**
   * Saves a persistent copy of a running sandbox, which keeps running: its checkpoint (the
   * runtime's leave-running checkpoint: a brief stop) and a copy of its upper directory taken right
   * after (writes in that moment may show in the copy and not in memory's view).
   *
   * @throws SandboxNotFoundException if it does not run here
   * @throws SnapshotExistsException if the snapshot id is taken
   * @throws IllegalArgumentException if the snapshot id is malformed
   */
  public SavedRecord createSnapshot(String sandboxId, String snapshotId) {
    requireNonNull(sandboxId, "sandboxId");
    requireNonNull(snapshotId, "snapshotId");
    if (!SNAPSHOT_ID.matcher(snapshotId).matches()) {
      throw new IllegalArgumentException(
          "snapshot id: letters, digits, '-', '_', '.', ':', '/', at most 128: " + snapshotId);
    }
    Sandbox sandbox =
        lifecycle.get(sandboxId).orElseThrow(() -> new SandboxNotFoundException(sandboxId));
    boolean keepMemory = runtime.canCheckpoint();
    checkQuota(sandbox, keepMemory);
    if (store.get(SavedRecord.Kind.SNAPSHOT, snapshotId).isPresent()) {
      throw new SnapshotExistsException(snapshotId);
    }
    Path path;
    try {
      path = store.begin(SavedRecord.Kind.SNAPSHOT, snapshotId);
    } catch (AlreadyPausedException e) {
      throw new SnapshotExistsException(snapshotId);
    }
    return save(
        path,
        into -> checkpointCopy(sandbox, into, keepMemory),
        record(
            SavedRecord.Kind.SNAPSHOT,
            snapshotId,
            sandbox,
            keepMemory,
            lifecycle.accessToken(sandboxId),
            lifecycle.request(sandboxId).orElse(null)));
  }

  /**
   * Fills the begun save at {@code path} and commits it with {@code record}; a save that failed is
   * discarded.
   */
  private SavedRecord save(Path path, Consumer<Path> filler, SavedRecord record) {
    try {
      filler.accept(path);
      return store.commit(path, record);
    } catch (RuntimeException e) {
      try {
        store.discard(path);
      } catch (RuntimeException discardFailed) {
        e.addSuppressed(discardFailed);
      }
      throw e;
    }
  }

  /**
   * A leave-running checkpoint into {@code path/image} and a copy of the upper directory, both
   * while the sandbox is frozen where the runtime can freeze it: a process that writes a file
   * between the dump and the copy would leave a copy that does not match the memory image (CRIU
   * refuses such a restore: "File … has bad size").
   */
  private void checkpointCopy(Sandbox sandbox, Path path, boolean keepMemory) {
    boolean frozen = runtime.canFreeze();
    if (frozen) {
      runtime.freeze(sandbox.containerId());
    }
    try {
      saveFrozen(sandbox, path, keepMemory);
    } finally {
      if (frozen) {
        runtime.thaw(sandbox.containerId());
      }
    }
  }

  /** A leave-running checkpoint into {@code path/image} and a copy of the upper directory. */
  private void saveFrozen(Sandbox sandbox, Path path, boolean keepMemory) {
    if (keepMemory) {
      runtime.checkpoint(
          sandbox.containerId(), path.resolve("image"), true, settings.checkpointTimeout());
    }
    copyUpper(sandbox, path);
  }

  private void copyUpper(Sandbox sandbox, Path path) {
    Path upper = lifecycle.sandboxDir(sandbox.containerId()).resolve("upper");
    ProcessBuilder copy =
        new ProcessBuilder(
                "cp", "-a", "--reflink=auto", upper.toString(), path.resolve("upper").toString())
            .redirectErrorStream(true);
    try {
      Process process = copy.start();
      String output =
          new String(
              process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      if (process.waitFor() != 0) {
        throw new SandboxRuntimeException("copying " + upper + " failed: " + output.strip());
      }
    } catch (IOException e) {
      throw new SandboxRuntimeException("copying " + upper + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SandboxRuntimeException("interrupted while copying " + upper, e);
    }
  }

  public List<SavedRecord> listSnapshots() {
    return store.list(SavedRecord.Kind.SNAPSHOT);
  }

  /**
   * @throws SavedStateNotFoundException if there is no such snapshot
   */
  public void deleteSnapshot(String snapshotId) {
    requireNonNull(snapshotId, "snapshotId");
    if (!store.delete(SavedRecord.Kind.SNAPSHOT, snapshotId)) {
      throw new SavedStateNotFoundException("no snapshot " + snapshotId);
    }
  }

  /**
   * Creates a sandbox from a snapshot: its files (copied), its memory and processes when kept; the
   * request's id, env, token, user, workdir, end time, egress and metadata; the snapshot's template
   * and limits.
   *
   * @throws SavedStateNotFoundException if there is no such snapshot
   */
  public Sandbox createFromSnapshot(SandboxRequest request, String snapshotId) {
    requireNonNull(request, "request");
    SavedRecord saved =
        store
            .get(SavedRecord.Kind.SNAPSHOT, snapshotId)
            .orElseThrow(() -> new SavedStateNotFoundException("no snapshot " + snapshotId));
    Path path = store.path(SavedRecord.Kind.SNAPSHOT, snapshotId);
    return startCopy(request, saved, path);
  }

  private Sandbox startCopy(SandboxRequest request, SavedRecord saved, Path path) {
    SandboxRequest child =
        new SandboxRequest(
            request.sandboxId(),
            saved.templateId(),
            saved.limits(),
            request.envVars().isEmpty() ? saved.envVars() : request.envVars(),
            request.metadata(),
            request.accessToken(),
            request.defaultUser() != null ? request.defaultUser() : saved.defaultUser(),
            request.defaultWorkdir() != null ? request.defaultWorkdir() : saved.defaultWorkdir(),
            request.endTime(),
            request.egress());
    @Nullable Path image = saved.memoryKept() ? path.resolve("image") : null;
    return lifecycle.start(
        child,
        spec -> runtime.restore(spec, path.resolve("upper"), false, image),
        runtime::remove,
        saved.memoryKept(),
        saved.memoryKept() ? saved.accessToken() : null);
  }

  private List<ForkResult> startChildren(
      List<SandboxRequest> children, SavedRecord saved, Path path) {
    Semaphore running =
        new Semaphore(Math.max(1, Runtime.getRuntime().availableProcessors()), true);
    List<Future<ForkResult>> started = new ArrayList<>();
    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      for (SandboxRequest child : children) {
        started.add(
            threads.submit(
                () -> {
                  running.acquireUninterruptibly();
                  try {
                    return new ForkResult(startCopy(child, saved, path), null);
                  } catch (RuntimeException e) {
                    return new ForkResult(null, e);
                  } finally {
                    running.release();
                  }
                }));
      }
    }
    List<ForkResult> results = new ArrayList<>();
    for (Future<ForkResult> child : started) {
      results.add(child.resultNow());
    }
    return results;
  }

  /** One child of a fork: the sandbox, or why it could not start. */
  public record ForkResult(@Nullable Sandbox sandbox, @Nullable RuntimeException error) {}

  /**
   * Checkpoints a running sandbox once (it keeps running) and starts each child from it, as many at
   * once as the host has processors (a restore is mostly CRIU's CPU work); a child that fails is
   * reported in its result and the others still start. Results are in the children's order. The
   * checkpoint is deleted afterwards.
   *
   * @throws SandboxNotFoundException if the parent does not run here
   */
  public List<ForkResult> fork(String sandboxId, List<SandboxRequest> children) {
    requireNonNull(sandboxId, "sandboxId");
    requireNonNull(children, "children");
    if (children.isEmpty() || children.size() > 100) {
      throw new IllegalArgumentException("1..100 children: " + children.size());
    }
    Sandbox parent =
        lifecycle.get(sandboxId).orElseThrow(() -> new SandboxNotFoundException(sandboxId));
    boolean keepMemory = runtime.canCheckpoint();
    checkQuota(parent, keepMemory);
    Path path = store.dir().resolve("forks").resolve(sandboxId + "-" + System.nanoTime());
    try {
      Files.createDirectories(path);
      String parentToken = lifecycle.accessToken(sandboxId);
      checkpointCopy(parent, path, keepMemory);
      SavedRecord saved =
          record(
              SavedRecord.Kind.SNAPSHOT,
              sandboxId,
              parent,
              keepMemory,
              parentToken,
              lifecycle.request(sandboxId).orElse(null));
      return startChildren(children, saved, path);
    } catch (IOException e) {
      throw new SandboxRuntimeException("cannot create " + path + ": " + e, e);
    } finally {
      store.discard(path);
    }
  }
}
