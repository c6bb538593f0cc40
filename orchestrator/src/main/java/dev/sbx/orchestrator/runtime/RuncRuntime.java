package dev.sbx.orchestrator.runtime;

import static java.util.Objects.requireNonNull;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.sbx.orchestrator.rootfs.DirectoryTree;
import dev.sbx.orchestrator.rootfs.MountTable;
import dev.sbx.orchestrator.rootfs.OverlayRootfs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@link SandboxRuntime} on the {@code runc} CLI (tested with 1.1.5, cgroups v1 hybrid). A sandbox
 * {@code id} is the container {@code <prefix><id>} in runc's state root {@code --root}; its bundle
 * is {@code <sandboxesDir>/<id>/} holding {@code config.json} ({@link OciConfig}), the overlay
 * ({@link OverlayRootfs}: {@code upper/}, {@code work/}, mounted at {@code rootfs/}) and the
 * generated {@code hosts} and {@code resolv.conf}. Its cgroups are {@code
 * /<cgroupParent>/<prefix><id>} in each hierarchy. The container's stdio is /dev/null; runc's own
 * messages from {@code run} go to {@code runc.log} in the bundle.
 */
public final class RuncRuntime implements SandboxRuntime {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup");
  private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

  private static final System.Logger LOG = System.getLogger(RuncRuntime.class.getName());

  /** CAP_SYS_RESOURCE: needed to lower an oom_score_adj. */
  private static final int CAP_SYS_RESOURCE = 24;

  private final RuncSettings settings;
  private final boolean limitSwap;
  private final int envdOomScoreAdj;

  public RuncRuntime(RuncSettings settings) {
    this.settings = requireNonNull(settings, "settings");
    // v1: memory+swap only where swap is accounted; v2: runc turns it into memory.swap.max
    this.limitSwap =
        Files.exists(CGROUP_ROOT.resolve("memory/memory.memsw.limit_in_bytes"))
            || Files.exists(CGROUP_ROOT.resolve("cgroup.controllers"));
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
    return settings.containerPrefix() + sandboxId;
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
    requireNonNull(spec, "spec");
    String sandboxId = spec.sandboxId();
    if (!Files.isDirectory(spec.envdDist().resolve("bin"))) {
      throw new IllegalArgumentException("not envd's directory (no bin/): " + spec.envdDist());
    }
    Path dir = sandboxDir(sandboxId);
    try {
      Files.createDirectories(settings.sandboxesDir());
      Files.createDirectories(settings.stateRoot());
      Files.createDirectory(dir); // atomic: claims the id
    } catch (FileAlreadyExistsException e) {
      throw new SandboxRuntimeException("sandbox " + sandboxId + " already exists", e);
    } catch (IOException e) {
      throw new SandboxRuntimeException("cannot create " + dir + ": " + e.getMessage(), e);
    }
    try {
      // runc keeps <root>/<container>/state.json: cheaper than forking runc state
      if (Files.exists(settings.stateRoot().resolve(containerId(sandboxId)))) {
        throw new SandboxRuntimeException(
            "container " + containerId(sandboxId) + " already exists in " + settings.stateRoot());
      }
      Path hosts = dir.resolve("hosts");
      Path resolvConf = dir.resolve("resolv.conf");
      Files.writeString(hosts, spec.hostsFile());
      Files.writeString(resolvConf, spec.resolvConf());
      OverlayRootfs.in(dir, spec.templateRootfs()).mount();
      JsonObject config =
          OciConfig.of(spec, hosts, resolvConf, cgroupsPath(sandboxId), limitSwap, envdOomScoreAdj);
      Files.writeString(dir.resolve("config.json"), GSON.toJson(config));
      Path log = dir.resolve("runc.log");
      Path pidFile = dir.resolve("pid");
      List<String> run = new ArrayList<>(runc());
      run.addAll(
          List.of(
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
              containerId(sandboxId)));
      int exitCode = HostCommand.runDetached(run, TIMEOUT);
      if (exitCode != 0) {
        throw new SandboxRuntimeException(
            "runc run "
                + containerId(sandboxId)
                + " failed (exit "
                + exitCode
                + "): "
                + runcLogErrors(log));
      }
      // runc run -d returns once the container's process runs: no runc state needed
      int pid = Integer.parseInt(Files.readString(pidFile).strip());
      return new RuntimeSandbox(sandboxId, SandboxState.RUNNING, pid);
    } catch (IOException | RuntimeException e) {
      try {
        remove(sandboxId);
      } catch (RuntimeException cleanup) {
        e.addSuppressed(cleanup);
      }
      if (e instanceof SandboxRuntimeException sre) {
        throw sre;
      }
      throw new SandboxRuntimeException("cannot create sandbox " + sandboxId + ": " + e, e);
    }
  }

  @Override
  public Optional<RuntimeSandbox> find(String sandboxId) {
    requireNonNull(sandboxId, "sandboxId");
    Optional<RuntimeSandbox> state = state(sandboxId);
    if (state.isPresent()) {
      return state;
    }
    return Files.exists(sandboxDir(sandboxId)) || !cgroupDirs(sandboxId).isEmpty()
        ? Optional.of(new RuntimeSandbox(sandboxId, SandboxState.ORPHANED, 0))
        : Optional.empty();
  }

  @Override
  public List<RuntimeSandbox> list() {
    HostCommand.Result result = runc("list", "--format", "json");
    if (!result.succeeded()) {
      throw new SandboxRuntimeException("runc list failed: " + result.error());
    }
    Map<String, RuntimeSandbox> sandboxes = new LinkedHashMap<>();
    JsonElement parsed = parse(result.stdout(), "runc list");
    if (parsed.isJsonArray()) {
      for (JsonElement element : parsed.getAsJsonArray()) {
        JsonObject container = element.getAsJsonObject();
        String id = container.get("id").getAsString();
        if (id.startsWith(settings.containerPrefix())) {
          String sandboxId = id.substring(settings.containerPrefix().length());
          sandboxes.put(sandboxId, sandbox(sandboxId, container));
        }
      }
    }
    if (Files.isDirectory(settings.sandboxesDir())) {
      try (DirectoryStream<Path> dirs = Files.newDirectoryStream(settings.sandboxesDir())) {
        for (Path dir : dirs) {
          String sandboxId = dir.getFileName().toString();
          sandboxes.putIfAbsent(sandboxId, new RuntimeSandbox(sandboxId, SandboxState.ORPHANED, 0));
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
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
    HostCommand.Result result = runc(args.toArray(String[]::new));
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
    if (command.isEmpty()) {
      throw new IllegalArgumentException("empty command");
    }
    List<String> args = new ArrayList<>(runc());
    args.add("exec"); // the process of config.json with other args: same env, caps, oomScoreAdj
    args.add(containerId(sandboxId));
    args.addAll(command);
    HostCommand.Result result = HostCommand.run(args, timeout);
    return new ExecResult(result.exitCode(), result.stdout(), result.stderr());
  }

  @Override
  public void remove(String sandboxId) {
    requireNonNull(sandboxId, "sandboxId");
    String container = containerId(sandboxId);
    HostCommand.Result deleted = runc("delete", "--force", container);
    if (!deleted.succeeded() && !isMissing(deleted)) {
      throw new SandboxRuntimeException("runc delete " + container + " failed: " + deleted.error());
    }
    for (Path cgroup : cgroupDirs(sandboxId)) {
      try {
        Files.deleteIfExists(cgroup); // rmdir: runc leaves none unless it crashed half-way
      } catch (IOException e) {
        throw new SandboxRuntimeException("cannot remove cgroup " + cgroup + ": " + e, e);
      }
    }
    Path dir = sandboxDir(sandboxId);
    MountTable.unmountBelow(dir);
    DirectoryTree.delete(dir);
  }

  /** The sandbox's cgroup directories that exist, in every hierarchy. */
  public List<Path> cgroupDirs(String sandboxId) {
    String relative = settings.cgroupParent() + "/" + containerId(sandboxId);
    List<Path> dirs = new ArrayList<>();
    try (DirectoryStream<Path> hierarchies = Files.newDirectoryStream(CGROUP_ROOT)) {
      for (Path hierarchy : hierarchies) {
        Path dir = hierarchy.resolve(relative);
        if (Files.isDirectory(dir)) {
          dirs.add(dir);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Path unified = CGROUP_ROOT.resolve(relative); // pure cgroup v2
    if (Files.isDirectory(unified) && !dirs.contains(unified)) {
      dirs.add(unified);
    }
    return dirs;
  }

  private Optional<RuntimeSandbox> state(String sandboxId) {
    HostCommand.Result result = runc("state", containerId(sandboxId));
    if (!result.succeeded()) {
      if (isMissing(result)) {
        return Optional.empty();
      }
      throw new SandboxRuntimeException(
          "runc state " + containerId(sandboxId) + " failed: " + result.error());
    }
    JsonElement parsed = parse(result.stdout(), "runc state");
    return Optional.of(sandbox(sandboxId, parsed.getAsJsonObject()));
  }

  private static RuntimeSandbox sandbox(String sandboxId, JsonObject container) {
    String status = container.get("status").getAsString();
    SandboxState state =
        switch (status) {
          case "created" -> SandboxState.CREATED;
          case "running" -> SandboxState.RUNNING;
          case "paused", "pausing" -> SandboxState.PAUSED;
          case "stopped" -> SandboxState.STOPPED;
          default -> throw new SandboxRuntimeException("unknown runc status: " + status);
        };
    JsonElement pid = container.get("pid");
    return new RuntimeSandbox(
        sandboxId,
        state,
        state == SandboxState.STOPPED || pid == null || pid.isJsonNull() ? 0 : pid.getAsInt());
  }

  private static boolean isMissing(HostCommand.Result result) {
    return result.stderr().contains("does not exist");
  }

  private List<String> runc() {
    return List.of(settings.runc().toString(), "--root", settings.stateRoot().toString());
  }

  private HostCommand.Result runc(String... args) {
    List<String> command = new ArrayList<>(runc());
    command.addAll(List.of(args));
    return HostCommand.run(command, TIMEOUT);
  }

  private static JsonElement parse(String json, String what) {
    try {
      return JsonParser.parseString(json);
    } catch (JsonParseException e) {
      throw new SandboxRuntimeException(what + " printed no JSON: " + json, e);
    }
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
