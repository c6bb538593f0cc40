package dev.sbx.orchestrator.runtime;

import static java.util.Objects.requireNonNull;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.sbx.orchestrator.rootfs.DirectoryTree;
import dev.sbx.orchestrator.rootfs.OverlayRootfs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * {@link SandboxRuntime} on the {@code runc} CLI (tested with 1.1.5, cgroups v1 hybrid). A sandbox
 * {@code id} is the container {@code <prefix><id>} in runc's state root {@code --root}; its bundle
 * is {@code <sandboxesDir>/<id>/} holding {@code config.json} ({@link OciConfig}), the overlay
 * ({@link OverlayRootfs}: {@code upper/}, {@code work/}, mounted at {@code rootfs/}) and the
 * generated {@code hosts} and {@code resolv.conf} ({@link OciBundle}). Its cgroups are {@code
 * /<cgroupParent>/<prefix><id>} in each hierarchy. The container's stdio is /dev/null; runc's own
 * messages from {@code run} go to {@code runc.log} in the bundle.
 */
public final class RuncRuntime implements SandboxRuntime {
  private static final System.Logger LOG = System.getLogger(RuncRuntime.class.getName());

  /** CAP_SYS_RESOURCE: needed to lower an oom_score_adj. */
  private static final int CAP_SYS_RESOURCE = 24;

  private final RuncSettings settings;
  private final OciCli runc;
  private final boolean limitSwap;
  private final int envdOomScoreAdj;
  private final @Nullable Path criu;

  /** With the CRIU {@link Criu#detect()} finds (none: pauses keep files only). */
  public RuncRuntime(RuncSettings settings) {
    this(settings, Criu.detect().orElse(null));
  }

  /**
   * @param criu CRIU 4.2 or newer for checkpoints, or null for none
   */
  public RuncRuntime(RuncSettings settings, @Nullable Path criu) {
    this.settings = requireNonNull(settings, "settings");
    this.criu = criu;
    this.runc =
        new OciCli(
            "runc",
            List.of(settings.runc().toString(), "--root", settings.stateRoot().toString()),
            settings.containerPrefix());
    // v1: memory+swap only where swap is accounted; v2: runc turns it into memory.swap.max
    this.limitSwap = OciBundle.hostLimitsSwap();
    this.envdOomScoreAdj = envdOomScoreAdj();
  }

  /**
   * -1000 (never OOM-killed) where this process may lower an {@code oom_score_adj}; without {@code
   * CAP_SYS_RESOURCE} (some hosts' root lacks it) nothing can go below this process's own value, so
   * envd gets that and its children, at 100, are still chosen first.
   */
  static int envdOomScoreAdj() {
    try {
      if (hasEffectiveCapability(CAP_SYS_RESOURCE)) {
        return OciConfig.ENVD_OOM_SCORE_ADJ;
      }
      int own = Integer.parseInt(Files.readString(Path.of("/proc/self/oom_score_adj")).strip());
      LOG.log(
          System.Logger.Level.WARNING,
          "no CAP_SYS_RESOURCE: envd runs with oom_score_adj {0}, not {1}",
          String.valueOf(own),
          String.valueOf(OciConfig.ENVD_OOM_SCORE_ADJ));
      return Math.max(own, OciConfig.ENVD_OOM_SCORE_ADJ);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static boolean hasEffectiveCapability(int capability) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("CapEff:")) {
        long effective = Long.parseUnsignedLong(line.substring("CapEff:".length()).strip(), 16);
        return (effective & (1L << capability)) != 0;
      }
    }
    return false;
  }

  @Override
  public String name() {
    return "runc";
  }

  /** The runc container name of a sandbox. */
  public String containerId(String sandboxId) {
    return runc.containerId(sandboxId);
  }

  /** The sandbox's directory: its OCI bundle, overlay layers and generated files. */
  public Path sandboxDir(String sandboxId) {
    return settings.sandboxesDir().resolve(sandboxId);
  }

  /** The cgroups path runc gets, relative to each hierarchy's root. */
  public String cgroupsPath(String sandboxId) {
    return "/" + settings.cgroupParent() + "/" + containerId(sandboxId);
  }

  @Override
  public RuntimeSandbox create(SandboxSpec spec) {
    return start(requireNonNull(spec, "spec"), null, false, null);
  }

  @Override
  public RuntimeSandbox restore(
      SandboxSpec spec, Path upper, boolean consume, @Nullable Path image) {
    requireNonNull(spec, "spec");
    requireNonNull(upper, "upper");
    if (image != null && criu == null) {
      throw new UnsupportedOperationException("no CRIU 4.2+ on this host: cannot restore " + image);
    }
    return start(spec, upper, consume, image);
  }

  private RuntimeSandbox start(
      SandboxSpec spec, @Nullable Path upper, boolean consume, @Nullable Path image) {
    String sandboxId = spec.sandboxId();
    if (!Files.isDirectory(spec.envdDist().resolve("bin"))) {
      throw new IllegalArgumentException("not envd's directory (no bin/): " + spec.envdDist());
    }
    long start = System.nanoTime();
    Path dir = sandboxDir(sandboxId);
    OciBundle.claim(settings.sandboxesDir(), dir, sandboxId);
    try {
      Files.createDirectories(settings.stateRoot());
      // runc keeps <root>/<container>/state.json: cheaper than forking runc state
      if (Files.exists(settings.stateRoot().resolve(containerId(sandboxId)))) {
        throw new SandboxRuntimeException(
            "container " + containerId(sandboxId) + " already exists in " + settings.stateRoot());
      }
      if (upper != null) {
        OciBundle.takeUpper(dir, upper, consume);
      }
      OciBundle.write(dir, spec, cgroupsPath(sandboxId), limitSwap, envdOomScoreAdj, config -> {});
      long bundled = System.nanoTime();
      Path log = dir.resolve("runc.log");
      Path pidFile = dir.resolve("pid");
      List<String> run;
      Map<String, String> env = Map.of();
      if (image == null) {
        run =
            runc.command(
                "--log",
                log.toString(),
                "--log-format",
                "json",
                "run",
                "--detach",
                "--pid-file",
                pidFile.toString(),
                "--bundle",
                dir.toString(),
                containerId(sandboxId));
      } else {
        // stdio /dev/null as at run: CRIU gives the restored processes the restore's stdio
        env = Map.of("CRIU_CONFIG_FILE", criuConfig(dir).toString());
        run =
            criuCommand(
                "--log",
                log.toString(),
                "--log-format",
                "json",
                "restore",
                "--detach",
                "--image-path",
                image.toString(),
                "--work-path",
                dir.resolve("criu-restore").toString(),
                "--pid-file",
                pidFile.toString(),
                "--bundle",
                dir.toString(),
                containerId(sandboxId));
      }
      int exitCode =
          HostCommand.runDetached(run, ProcessBuilder.Redirect.DISCARD, OciCli.TIMEOUT, env);
      if (exitCode != 0) {
        throw new SandboxRuntimeException(
            (image == null ? "runc run " : "runc restore ")
                + containerId(sandboxId)
                + " failed (exit "
                + exitCode
                + "): "
                + runcLogErrors(log)
                + (image == null ? "" : criuErrors(dir.resolve("criu-restore/restore.log"))));
      }
      // runc run -d returns once the container's process runs: no runc state needed
      int pid = Integer.parseInt(Files.readString(pidFile).strip());
      long ran = System.nanoTime();
      LOG.log(
          System.Logger.Level.DEBUG,
          () ->
              String.format(
                  "created %s: bundle (dir, hosts, overlay mount, config.json) %.1f ms,"
                      + " runc run -d %.1f ms",
                  sandboxId, (bundled - start) / 1e6, (ran - bundled) / 1e6));
      return new RuntimeSandbox(sandboxId, SandboxState.RUNNING, pid);
    } catch (IOException | RuntimeException e) {
      if (upper != null) {
        try {
          runc.delete(sandboxId);
        } catch (RuntimeException deleteFailed) {
          e.addSuppressed(deleteFailed);
        }
        OciBundle.giveBackUpper(dir, upper, consume, e);
      }
      throw OciBundle.createFailed(sandboxId, e, () -> remove(sandboxId));
    }
  }

  /** runc with {@code --criu} and its global flags, then {@code args}. */
  private List<String> criuCommand(String... args) {
    List<String> command = new ArrayList<>(runc.command());
    command.add(1, "--criu");
    command.add(2, requireNonNull(criu, "criu").toString());
    command.addAll(List.of(args));
    return command;
  }

  private static Path criuConfig(Path dir) throws IOException {
    Path config = dir.resolve("criu.conf");
    Files.writeString(config, Criu.CONFIG);
    return config;
  }

  @Override
  public boolean canCheckpoint() {
    return criu != null;
  }

  /**
   * {@code runc checkpoint} through CRIU (the container's stdio is /dev/null, its network namespace
   * external; established TCP connections are closed on restore). runc has CRIU freeze the
   * container's cgroup before it seizes the processes; a process that stays in uninterruptible
   * sleep (state D) cannot be seized. The common case is a shell frozen in the middle of a {@code
   * vfork} (dash runs every command that way): its child was frozen before it could {@code exec},
   * and the parent waits for it, so the dump fails whatever the wait. Such a dump is tried again up
   * to {@link #CHECKPOINT_ATTEMPTS} times, after the container has run for {@link
   * #UNSEIZABLE_RETRY_DELAY} (a container frozen before is thawed for that time and frozen again,
   * so that the child gets to its {@code exec}). If it fails or times out, a container CRIU left
   * frozen is thawed ({@code runc resume}) so that it runs on (one {@link #freeze} froze stays
   * frozen for its caller), and the exception says CRIU's errors.
   */
  @Override
  public void checkpoint(String sandboxId, Path imageDir, boolean leaveRunning, Duration timeout) {
    requireNonNull(sandboxId, "sandboxId");
    requireNonNull(imageDir, "imageDir");
    requireNonNull(timeout, "timeout");
    if (criu == null) {
      throw new UnsupportedOperationException("no CRIU 4.2+ on this host");
    }
    Path dir = sandboxDir(sandboxId);
    Path work = dir.resolve("criu-dump");
    long deadline = System.nanoTime() + timeout.toNanos();
    // a container frozen before (freeze) stays frozen for its caller; one CRIU froze is thawed
    boolean frozenBefore = isPaused(sandboxId);
    for (int attempt = 1; ; attempt++) {
      HostCommand.Result result =
          checkpointOnce(
              sandboxId,
              dir,
              work,
              imageDir,
              attempt > 1,
              leaveRunning,
              Duration.ofNanos(Math.max(deadline - System.nanoTime(), 1_000_000_000L)));
      if (result.succeeded()) {
        return;
      }
      if (!frozenBefore && isPaused(sandboxId)) {
        runc.run("resume", containerId(sandboxId));
      }
      String errors = criuErrors(work.resolve("dump.log"));
      boolean unseizable = errors.contains("Unseizable");
      long left = deadline - System.nanoTime();
      if (attempt < CHECKPOINT_ATTEMPTS
          && unseizable
          && left > Criu.SEIZE_TIMEOUT.plus(UNSEIZABLE_RETRY_DELAY).toNanos()) {
        LOG.log(
            System.Logger.Level.INFO,
            "checkpoint of {0}: a process could not be seized, trying again after {1} ms of"
                + " running: {2}",
            containerId(sandboxId),
            UNSEIZABLE_RETRY_DELAY.toMillis(),
            errors);
        if (frozenBefore) {
          thaw(sandboxId);
          sleep(UNSEIZABLE_RETRY_DELAY);
          freeze(sandboxId);
        } else {
          sleep(UNSEIZABLE_RETRY_DELAY);
        }
        continue;
      }
      throw new SandboxRuntimeException(
          "runc checkpoint "
              + containerId(sandboxId)
              + " failed"
              + (attempt > 1 ? " " + attempt + " times" : "")
              + (unseizable
                  ? " (a process stayed in uninterruptible sleep, state D; the sandbox runs on)"
                  : "")
              + ": "
              + result.error()
              + errors
              + (errors.contains("Can't get rlimit")
                  ? " (CRIU needs CAP_SYS_RESOURCE or sbx's criu-prlimit.so:"
                      + " run scripts/install-deps.sh orchestrator)"
                  : ""));
    }
  }

  @Override
  public boolean canFreeze() {
    return true;
  }

  /**
   * Freezes through the cgroup's files ({@link CgroupFreezer}); if that is not done within {@link
   * #FREEZE_TIMEOUT}, {@code runc pause} (which retries a freezer stuck in FREEZING).
   */
  @Override
  public void freeze(String sandboxId) {
    requireNonNull(sandboxId, "sandboxId");
    Optional<CgroupFreezer> freezer = CgroupFreezer.of(cgroupDirs(sandboxId));
    if (freezer.isPresent() && freezer.get().freeze(FREEZE_TIMEOUT)) {
      return;
    }
    HostCommand.Result result = runc.run("pause", containerId(sandboxId));
    if (!result.succeeded()) {
      throw new SandboxRuntimeException(
          "runc pause " + containerId(sandboxId) + " failed: " + result.error());
    }
  }

  /** As {@link #freeze}: the cgroup's files, else {@code runc resume}. */
  @Override
  public boolean thaw(String sandboxId) {
    requireNonNull(sandboxId, "sandboxId");
    Optional<CgroupFreezer> freezer = CgroupFreezer.of(cgroupDirs(sandboxId));
    if (freezer.isPresent() && freezer.get().thaw(FREEZE_TIMEOUT)) {
      return true;
    }
    if (!isPaused(sandboxId)) {
      return runc.state(sandboxId).filter(s -> s.state() == SandboxState.RUNNING).isPresent();
    }
    HostCommand.Result result = runc.run("resume", containerId(sandboxId));
    if (!result.succeeded()) {
      LOG.log(
          System.Logger.Level.WARNING,
          "runc resume {0} failed: {1}",
          containerId(sandboxId),
          result.error());
      return false;
    }
    return true;
  }

  /** How long a freeze or thaw through the cgroup's files may take before runc is asked. */
  static final Duration FREEZE_TIMEOUT = Duration.ofSeconds(2);

  private boolean isPaused(String sandboxId) {
    Optional<CgroupFreezer> freezer = CgroupFreezer.of(cgroupDirs(sandboxId));
    if (freezer.isPresent()) {
      return freezer.get().isFrozen();
    }
    return runc.state(sandboxId).filter(s -> s.state() == SandboxState.PAUSED).isPresent();
  }

  /** How long a dump that met a process in state D waits before its second try. */
  static final Duration UNSEIZABLE_RETRY_DELAY = Duration.ofMillis(200);

  /** The most dumps {@link #checkpoint} tries when a process cannot be seized. */
  static final int CHECKPOINT_ATTEMPTS = 3;

  private HostCommand.Result checkpointOnce(
      String sandboxId,
      Path dir,
      Path work,
      Path imageDir,
      boolean again,
      boolean leaveRunning,
      Duration timeout) {
    try {
      Files.createDirectories(imageDir.getParent());
      if (again) {
        DirectoryTree.delete(imageDir); // the failed try's images
      }
      Files.createDirectory(imageDir);
      DirectoryTree.delete(work);
      List<String> args = new ArrayList<>(List.of("checkpoint"));
      args.addAll(List.of("--image-path", imageDir.toString(), "--work-path", work.toString()));
      if (leaveRunning) {
        args.add("--leave-running");
      }
      args.add(containerId(sandboxId));
      return HostCommand.run(
          criuCommand(args.toArray(String[]::new)),
          timeout,
          Map.of("CRIU_CONFIG_FILE", criuConfig(dir).toString()));
    } catch (IOException e) {
      throw new SandboxRuntimeException(
          "cannot checkpoint " + containerId(sandboxId) + ": " + e, e);
    }
  }

  private static void sleep(Duration delay) {
    try {
      Thread.sleep(delay);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SandboxRuntimeException("interrupted while checkpointing", e);
    }
  }

  @Override
  public void foreground(String sandboxId) {
    CpuWeight.normal(cgroupDirs(requireNonNull(sandboxId, "sandboxId")));
  }

  /** The "Error" lines of a CRIU log, for messages. */
  private static String criuErrors(Path log) {
    try {
      List<String> errors =
          Files.readAllLines(log).stream().filter(line -> line.contains("Error")).toList();
      return errors.isEmpty() ? "" : " (CRIU: " + String.join("; ", errors) + ")";
    } catch (IOException e) {
      return "";
    }
  }

  @Override
  public void removeKeepingUpper(String sandboxId, Path upperTarget) {
    requireNonNull(sandboxId, "sandboxId");
    requireNonNull(upperTarget, "upperTarget");
    runc.delete(sandboxId);
    OciBundle.removeKeepingUpper(sandboxDir(sandboxId), cgroupDirs(sandboxId), upperTarget);
  }

  @Override
  public Optional<RuntimeSandbox> find(String sandboxId) {
    requireNonNull(sandboxId, "sandboxId");
    Optional<RuntimeSandbox> state = runc.state(sandboxId);
    if (state.isPresent()) {
      return state;
    }
    return OciBundle.orphan(sandboxId, sandboxDir(sandboxId), cgroupDirs(sandboxId));
  }

  @Override
  public List<RuntimeSandbox> list() {
    Map<String, RuntimeSandbox> sandboxes = runc.list();
    OciBundle.addOrphans(settings.sandboxesDir(), sandboxes);
    return List.copyOf(sandboxes.values());
  }

  @Override
  public void updateLimits(String sandboxId, ResourceLimits limits) {
    requireNonNull(sandboxId, "sandboxId");
    requireNonNull(limits, "limits");
    List<String> args = new ArrayList<>(List.of("update"));
    args.addAll(List.of("--memory", Long.toString(limits.memoryBytes())));
    if (limitSwap) {
      args.addAll(List.of("--memory-swap", Long.toString(limits.memoryBytes())));
    }
    args.addAll(List.of("--cpu-period", Long.toString(ResourceLimits.CPU_PERIOD_MICROS)));
    args.addAll(List.of("--cpu-quota", Long.toString(limits.cpuQuotaMicros())));
    args.addAll(List.of("--pids-limit", Integer.toString(limits.pidsLimit())));
    args.add(containerId(sandboxId));
    HostCommand.Result result = runc.run(args.toArray(String[]::new));
    if (!result.succeeded()) {
      throw new SandboxRuntimeException(
          "runc update " + containerId(sandboxId) + " failed: " + result.error());
    }
  }

  @Override
  public ExecResult exec(String sandboxId, List<String> command, Duration timeout) {
    requireNonNull(sandboxId, "sandboxId");
    requireNonNull(command, "command");
    requireNonNull(timeout, "timeout");
    return runc.exec(sandboxId, command, timeout); // same env, caps, oomScoreAdj as envd
  }

  @Override
  public void remove(String sandboxId) {
    requireNonNull(sandboxId, "sandboxId");
    runc.delete(sandboxId);
    OciBundle.remove(sandboxDir(sandboxId), cgroupDirs(sandboxId));
  }

  /** The sandbox's cgroup directories that exist, in every hierarchy. */
  public List<Path> cgroupDirs(String sandboxId) {
    return OciBundle.cgroupDirs(settings.cgroupParent() + "/" + containerId(sandboxId));
  }

  /** The "msg" of each error line runc wrote to its JSON log. */
  private static String runcLogErrors(Path log) {
    List<String> lines;
    try {
      lines = Files.readAllLines(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no runc log: " + e.getMessage() + ")";
    }
    List<String> errors = new ArrayList<>();
    for (String line : lines) {
      try {
        JsonObject entry = JsonParser.parseString(line).getAsJsonObject();
        JsonElement level = entry.get("level");
        JsonElement msg = entry.get("msg");
        if (level != null && msg != null && !"debug".equals(level.getAsString())) {
          errors.add(msg.getAsString());
        }
      } catch (RuntimeException notJson) {
        errors.add(line);
      }
    }
    return errors.isEmpty() ? "(runc logged nothing)" : String.join("; ", errors);
  }
}
