package dev.sbx.orchestrator.runtime;

import static java.util.Objects.requireNonNull;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * {@link SandboxRuntime} on gVisor's {@code runsc} CLI (tested with Debian's 20240729, systrap
 * platform, cgroups v1 hybrid). The bundle is the same as {@link RuncRuntime}'s ({@link
 * OciBundle}): the host's overlayfs is the rootfs, and runsc runs with {@code --overlay2=none} so
 * that the sandbox's writes land in the overlay's upper directory on the host (not in a gVisor
 * memory overlay) and envd's directory is a read-only bind mount.
 *
 * <p>Network: {@code --network=sandbox}, gVisor's own network stack (netstack) in the sentry; the
 * host kernel sees only raw packets on the namespace's interfaces. At start runsc moves each
 * interface's IPv4 addresses and routes from the namespace into netstack (it removes them from the
 * host side); {@link #remove} puts them back, so a prepared network namespace can take the next
 * sandbox. runsc 20240729 refuses netstack whenever {@code /proc/sys/net/core/rmem_default} exists,
 * its test for "this is the host's root network namespace", and on Linux 6.x that file exists in
 * every namespace (gVisor issue 10704). So this runtime checks that itself (the sandbox's namespace
 * is neither init's nor its own), and runs {@code runsc run} in a private mount namespace where an
 * empty read-only tmpfs covers {@code /proc/sys/net/core}: only that runsc process sees it, the
 * sentry and gofer make their own mount namespaces. The weaker alternative, {@code --network=host},
 * would let the sentry use the host kernel's network stack for the sandbox's sockets.
 *
 * <p>Limits: runsc puts the sentry and gofer into the cgroups {@code /<cgroupParent>/<prefix><id>}
 * with the config's limits. The sentry's own memory (≈ 50 MB with the gofer) counts against the
 * memory limit, and a sandbox that exceeds it is killed as a whole by the host's OOM killer: the
 * sentry is one host process. runsc has no {@code update}, so {@link #updateLimits} writes the
 * cgroup files.
 */
public final class RunscRuntime implements SandboxRuntime {
  private static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup");

  /** The shell run by {@code unshare}: hide runsc's outdated root-namespace test, then exec it. */
  private static final String HIDE_NET_CORE_THEN_EXEC =
      "mount -t tmpfs -o ro,nodev,nosuid,noexec,size=4k sbx-runsc /proc/sys/net/core"
          + " && exec \"$@\"";

  /** Files in a sandbox's directory: the network namespace and what restores its addresses. */
  private static final String NETNS_FILE = "netns";

  private static final String NETNS_RESTORE_FILE = "netns-restore.ip";

  private final RunscSettings settings;
  private final OciCli runsc;
  private final boolean limitSwap;
  private final int envdOomScoreAdj;

  public RunscRuntime(RunscSettings settings) {
    this.settings = requireNonNull(settings, "settings");
    this.runsc =
        new OciCli(
            "runsc",
            List.of(
                settings.runsc().toString(),
                "--root",
                settings.stateRoot().toString(),
                "--platform=" + settings.platform(),
                "--overlay2=none",
                // a checkpoint with open TCP connections would otherwise fail and kill the sandbox
                "--net-disconnect-ok"),
            settings.containerPrefix());
    this.limitSwap = OciBundle.hostLimitsSwap();
    this.envdOomScoreAdj = RuncRuntime.envdOomScoreAdj();
  }

  @Override
  public String name() {
    return "runsc";
  }

  /** The runsc container name of a sandbox. */
  public String containerId(String sandboxId) {
    return runsc.containerId(sandboxId);
  }

  /** The sandbox's directory: its OCI bundle, overlay layers and generated files. */
  public Path sandboxDir(String sandboxId) {
    return settings.sandboxesDir().resolve(sandboxId);
  }

  /** The cgroups path runsc gets, relative to each hierarchy's root. */
  public String cgroupsPath(String sandboxId) {
    return "/" + settings.cgroupParent() + "/" + containerId(sandboxId);
  }

  /** The sandbox's cgroup directories that exist, in every hierarchy. */
  public List<Path> cgroupDirs(String sandboxId) {
    return OciBundle.cgroupDirs(settings.cgroupParent() + "/" + containerId(sandboxId));
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
    return start(spec, upper, consume, image);
  }

  private RuntimeSandbox start(
      SandboxSpec spec, @Nullable Path upper, boolean consume, @Nullable Path image) {
    String sandboxId = spec.sandboxId();
    if (!Files.isDirectory(spec.envdDist().resolve("bin"))) {
      throw new IllegalArgumentException("not envd's directory (no bin/): " + spec.envdDist());
    }
    Path netns = spec.networkNamespace();
    if (netns != null) {
      requireOwnNetworkNamespace(netns);
    }
    Path dir = sandboxDir(sandboxId);
    OciBundle.claim(settings.sandboxesDir(), dir, sandboxId);
    try {
      Files.createDirectories(settings.stateRoot());
      if (netns != null) {
        Files.writeString(dir.resolve(NETNS_FILE), netns.toString());
        Files.writeString(dir.resolve(NETNS_RESTORE_FILE), addressesAndRoutes(netns));
      }
      if (upper != null) {
        OciBundle.takeUpper(dir, upper, consume);
      }
      OciBundle.write(
          dir,
          spec,
          cgroupsPath(sandboxId),
          limitSwap,
          envdOomScoreAdj,
          config -> tmpOnDisk(dir, config));
      Path log = dir.resolve("runsc.log");
      Path pidFile = dir.resolve("pid");
      List<String> run = new ArrayList<>();
      if (netns != null) {
        // runsc's root-namespace test looks at /proc/sys/net/core in the namespace it joins: the
        // tmpfs must cover that namespace's directory, so cover it from inside the namespace
        run.addAll(List.of("nsenter", "--net=" + netns, "--"));
        run.addAll(
            List.of(
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "--",
                "/bin/sh",
                "-c",
                HIDE_NET_CORE_THEN_EXEC,
                "sh"));
      }
      run.addAll(runsc.command());
      // without a namespace of its own the sandbox gets no network at all, only gVisor's loopback
      run.add(netns != null ? "--network=sandbox" : "--network=none");
      if (image == null) {
        run.addAll(List.of("run", "--detach"));
      } else {
        // netstack comes back from the image; the namespace's address (put back before) is taken
        run.addAll(List.of("restore", "--detach", "--image-path", image.toString()));
      }
      run.addAll(
          List.of(
              "--pid-file",
              pidFile.toString(),
              "--bundle",
              dir.toString(),
              containerId(sandboxId)));
      // stdout to /dev/null as the sandbox inherits it, stderr into the log for the error message
      int exitCode =
          HostCommand.runDetached(run, ProcessBuilder.Redirect.to(log.toFile()), OciCli.TIMEOUT);
      if (exitCode != 0) {
        throw new SandboxRuntimeException(
            (image == null ? "runsc run " : "runsc restore ")
                + containerId(sandboxId)
                + " failed (exit "
                + exitCode
                + "): "
                + lastLines(log));
      }
      int pid = Integer.parseInt(Files.readString(pidFile).strip());
      return new RuntimeSandbox(sandboxId, SandboxState.RUNNING, pid);
    } catch (IOException | RuntimeException e) {
      if (upper != null) {
        try {
          if (Files.isDirectory(settings.stateRoot())) {
            runsc.delete(sandboxId);
          }
          restoreNetwork(dir);
        } catch (RuntimeException deleteFailed) {
          e.addSuppressed(deleteFailed);
        }
        OciBundle.giveBackUpper(dir, upper, consume, e);
      }
      throw OciBundle.createFailed(sandboxId, e, () -> remove(sandboxId));
    }
  }

  /**
   * Whether pauses keep memory: only when the system property {@code sbx.runsc.checkpoint} is
   * {@code true}. On this kind of host (runsc 20240729, systrap, no KVM, load from other builds)
   * {@code runsc restore} came back with the sandbox's tasks stalled: the container reports
   * running, the sentry's tasks wait in futex/epoll, no stub process is made, timers do not fire,
   * envd accepts TCP connections but never answers (seen in {@code PauseResumeTest} and by hand
   * with {@code --network=none}). A memory pause that cannot be resumed loses the sandbox, so runsc
   * sandboxes pause with their files only by default, and the answer says so ({@code memory_kept:
   * false}).
   */
  @Override
  public boolean canCheckpoint() {
    return Boolean.getBoolean("sbx.runsc.checkpoint");
  }

  /**
   * {@code runsc checkpoint --compression=none}: the sentry's whole state; the rootfs's changes
   * stay in the host overlay's upper directory ({@code --overlay2=none}). Open TCP connections are
   * disconnected ({@code --net-disconnect-ok}, given at start).
   */
  @Override
  public void checkpoint(String sandboxId, Path imageDir, boolean leaveRunning, Duration timeout) {
    requireNonNull(sandboxId, "sandboxId");
    requireNonNull(imageDir, "imageDir");
    requireNonNull(timeout, "timeout");
    try {
      Files.createDirectories(imageDir.getParent());
      Files.createDirectory(imageDir);
    } catch (IOException e) {
      throw new SandboxRuntimeException("cannot create " + imageDir + ": " + e, e);
    }
    List<String> args = new ArrayList<>(runsc.command());
    args.addAll(List.of("checkpoint", "--image-path", imageDir.toString(), "--compression=none"));
    if (leaveRunning) {
      args.add("--leave-running");
    }
    args.add(containerId(sandboxId));
    HostCommand.Result result = HostCommand.run(args, timeout);
    if (!result.succeeded()) {
      throw new SandboxRuntimeException(
          "runsc checkpoint " + containerId(sandboxId) + " failed: " + result.error());
    }
  }

  @Override
  public void removeKeepingUpper(String sandboxId, Path upperTarget) {
    requireNonNull(sandboxId, "sandboxId");
    requireNonNull(upperTarget, "upperTarget");
    if (Files.isDirectory(settings.stateRoot())) {
      runsc.delete(sandboxId);
    }
    Path dir = sandboxDir(sandboxId);
    restoreNetwork(dir);
    OciBundle.removeKeepingUpper(dir, cgroupDirs(sandboxId), upperTarget);
  }

  /**
   * Binds the rootfs's own {@code /tmp} at {@code /tmp}: gVisor mounts a tmpfs there (in the
   * sandbox's memory) when the image's {@code /tmp} is empty and the config has no mount for it.
   */
  private static void tmpOnDisk(Path dir, JsonObject config) {
    Path tmp = dir.resolve("rootfs/tmp");
    try {
      if (!Files.isDirectory(tmp)) {
        Files.createDirectory(tmp);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxrwxrwx"));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    JsonObject mount = new JsonObject();
    mount.addProperty("destination", "/tmp");
    mount.addProperty("type", "bind");
    mount.addProperty("source", tmp.toString());
    JsonArray options = new JsonArray();
    options.add("rbind");
    options.add("rw");
    mount.add("options", options);
    config.getAsJsonArray("mounts").add(mount);
  }

  /**
   * Refuses a network namespace that is this process's own (the orchestrator runs in the host's) or
   * init's, where this process may look at init's (without CAP_SYS_PTRACE it may not): netstack
   * takes the addresses off every interface of the namespace it gets.
   */
  static void requireOwnNetworkNamespace(Path netns) {
    Object inode;
    try {
      inode = Files.getAttribute(netns, "unix:ino");
    } catch (IOException e) {
      throw new SandboxRuntimeException("no network namespace at " + netns + ": " + e, e);
    }
    for (Path own : List.of(Path.of("/proc/self/ns/net"), Path.of("/proc/1/ns/net"))) {
      Object ownInode;
      try {
        ownInode = Files.getAttribute(own, "unix:ino");
      } catch (AccessDeniedException e) {
        continue; // init's, without CAP_SYS_PTRACE
      } catch (IOException e) {
        throw new SandboxRuntimeException("cannot stat " + own + ": " + e, e);
      }
      if (inode.equals(ownInode)) {
        throw new SandboxRuntimeException(
            netns + " is the host's network namespace (" + own + "): a sandbox needs its own");
      }
    }
  }

  /**
   * The {@code ip -batch} lines that put back the namespace's IPv4 addresses and its routes that
   * are not the kernel's own (those come back with the addresses).
   */
  static String addressesAndRoutes(Path netns) {
    HostCommand.Result result =
        HostCommand.run(
            List.of(
                "nsenter",
                "--net=" + netns,
                "/bin/sh",
                "-c",
                "ip -4 -o address show scope global && echo -- && ip -4 route show"),
            OciCli.TIMEOUT);
    if (!result.succeeded()) {
      throw new SandboxRuntimeException(
          "cannot read the addresses of " + netns + ": " + result.error());
    }
    StringBuilder batch = new StringBuilder();
    List<String> routes = new ArrayList<>();
    boolean inRoutes = false;
    for (String line : result.stdout().lines().toList()) {
      if (line.equals("--")) {
        inRoutes = true;
      } else if (!inRoutes) {
        // "2: eth0    inet 10.0.0.2/30 brd 10.0.0.3 scope global eth0\       valid_lft ..."
        String[] fields = line.strip().split("\\s+");
        if (fields.length >= 4 && fields[2].equals("inet")) {
          batch.append("address replace ").append(fields[3]).append(" dev ").append(fields[1]);
          batch.append('\n');
        }
      } else if (!line.contains("proto kernel") && !line.isBlank()) {
        routes.add("route replace " + line.strip() + "\n");
      }
    }
    routes.forEach(batch::append);
    return batch.toString();
  }

  @Override
  public Optional<RuntimeSandbox> find(String sandboxId) {
    requireNonNull(sandboxId, "sandboxId");
    Optional<RuntimeSandbox> state = runsc.state(sandboxId);
    if (state.isPresent()) {
      return state;
    }
    return OciBundle.orphan(sandboxId, sandboxDir(sandboxId), cgroupDirs(sandboxId));
  }

  @Override
  public List<RuntimeSandbox> list() {
    Map<String, RuntimeSandbox> sandboxes =
        Files.isDirectory(settings.stateRoot()) ? runsc.list() : new LinkedHashMap<>();
    OciBundle.addOrphans(settings.sandboxesDir(), sandboxes);
    return List.copyOf(sandboxes.values());
  }

  @Override
  public void foreground(String sandboxId) {
    CpuWeight.normal(cgroupDirs(requireNonNull(sandboxId, "sandboxId")));
  }

  /**
   * Writes the new limits into the sandbox's cgroups (v1: memory, memory + swap where accounted,
   * CFS quota, pids; v2: memory.max, memory.swap.max, cpu.max, pids.max). gVisor keeps the memory
   * size it was started with for its own {@code /proc/meminfo}.
   */
  @Override
  public void updateLimits(String sandboxId, ResourceLimits limits) {
    requireNonNull(sandboxId, "sandboxId");
    requireNonNull(limits, "limits");
    String relative = settings.cgroupParent() + "/" + containerId(sandboxId);
    try {
      if (Files.exists(CGROUP_ROOT.resolve("cgroup.controllers"))) {
        Path cgroup = existing(CGROUP_ROOT.resolve(relative));
        write(cgroup.resolve("memory.max"), limits.memoryBytes());
        write(cgroup.resolve("memory.swap.max"), 0);
        Files.writeString(
            cgroup.resolve("cpu.max"),
            limits.cpuQuotaMicros() + " " + ResourceLimits.CPU_PERIOD_MICROS);
        write(cgroup.resolve("pids.max"), limits.pidsLimit());
        return;
      }
      Path memory = existing(CGROUP_ROOT.resolve("memory").resolve(relative));
      Path memoryLimit = memory.resolve("memory.limit_in_bytes");
      Path memswLimit = memory.resolve("memory.memsw.limit_in_bytes");
      // memory + swap may never be below memory: raise memsw first, lower it last
      boolean raising =
          limits.memoryBytes() > Long.parseLong(Files.readString(memoryLimit).strip());
      if (limitSwap && raising) {
        write(memswLimit, limits.memoryBytes());
      }
      write(memoryLimit, limits.memoryBytes());
      if (limitSwap && !raising) {
        write(memswLimit, limits.memoryBytes());
      }
      Path cpu = existing(CGROUP_ROOT.resolve("cpu").resolve(relative));
      write(cpu.resolve("cpu.cfs_period_us"), ResourceLimits.CPU_PERIOD_MICROS);
      write(cpu.resolve("cpu.cfs_quota_us"), limits.cpuQuotaMicros());
      write(
          existing(CGROUP_ROOT.resolve("pids").resolve(relative)).resolve("pids.max"),
          limits.pidsLimit());
    } catch (IOException e) {
      throw new SandboxRuntimeException(
          "cannot change the limits of " + containerId(sandboxId) + ": " + e, e);
    }
  }

  private Path existing(Path cgroup) {
    if (!Files.isDirectory(cgroup)) {
      throw new SandboxRuntimeException("no cgroup " + cgroup + ": is the sandbox running?");
    }
    return cgroup;
  }

  private static void write(Path file, long value) throws IOException {
    Files.writeString(file, Long.toString(value));
  }

  @Override
  public ExecResult exec(String sandboxId, List<String> command, Duration timeout) {
    requireNonNull(sandboxId, "sandboxId");
    requireNonNull(command, "command");
    requireNonNull(timeout, "timeout");
    return runsc.exec(sandboxId, command, timeout); // as root, with the container's env and caps
  }

  /**
   * Sets the hostname inside the sandbox: gVisor keeps the UTS namespace in its sentry, so it is
   * set from within ({@code hostname <name>} from the template), with {@code CAP_SYS_ADMIN} added
   * for that one process (the container's own set lacks it: {@code sethostname} was refused).
   *
   * @throws SandboxRuntimeException if it failed
   */
  public void setHostname(String sandboxId, String hostname, Duration timeout) {
    ExecResult result =
        runsc.exec(sandboxId, List.of("hostname", hostname), timeout, List.of("CAP_SYS_ADMIN"));
    if (result.exitCode() != 0) {
      throw new SandboxRuntimeException(
          "setting the hostname of " + sandboxId + " failed: " + result);
    }
  }

  @Override
  public void remove(String sandboxId) {
    requireNonNull(sandboxId, "sandboxId");
    if (Files.isDirectory(settings.stateRoot())) {
      runsc.delete(sandboxId);
    }
    Path dir = sandboxDir(sandboxId);
    restoreNetwork(dir);
    OciBundle.remove(dir, cgroupDirs(sandboxId));
  }

  /** Gives the namespace back the addresses and routes netstack took, if it still exists. */
  private static void restoreNetwork(Path dir) {
    Path netnsFile = dir.resolve(NETNS_FILE);
    Path restore = dir.resolve(NETNS_RESTORE_FILE);
    try {
      if (!Files.exists(netnsFile) || !Files.exists(restore) || Files.size(restore) == 0) {
        return;
      }
      Path netns = Path.of(Files.readString(netnsFile).strip());
      if (!Files.exists(netns)) {
        return; // the namespace was removed: nothing to give back
      }
      HostCommand.Result result =
          HostCommand.run(
              List.of("nsenter", "--net=" + netns, "ip", "-batch", restore.toString()),
              OciCli.TIMEOUT);
      if (!result.succeeded()) {
        throw new SandboxRuntimeException(
            "cannot restore the addresses of " + netns + ": " + result.error());
      }
    } catch (IOException e) {
      throw new SandboxRuntimeException("cannot read " + dir + ": " + e, e);
    }
  }

  private static String lastLines(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      String text = String.join("; ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
      return text.isBlank() ? "(runsc printed nothing)" : text;
    } catch (IOException e) {
      return "(no runsc output: " + e.getMessage() + ")";
    }
  }
}
