package dev.sbx.orchestrator.runtime;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.sbx.orchestrator.rootfs.DirectoryTree;
import dev.sbx.orchestrator.rootfs.MountTable;
import dev.sbx.orchestrator.rootfs.OverlayRootfs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The files of one sandbox's OCI bundle on the host, as every OCI runtime here takes them: the
 * sandbox's directory {@code <sandboxesDir>/<id>/} holding the overlay ({@link OverlayRootfs}:
 * {@code upper/}, {@code work/}, mounted at {@code rootfs/}), the generated {@code hosts} and
 * {@code resolv.conf} and {@code config.json} ({@link OciConfig}); and the sandbox's cgroup
 * directories. It also holds what both runtimes do with these around their CLI: undo a failed
 * create, find and list what is left of a sandbox, remove it.
 */
final class OciBundle {
  private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();
  private static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup");

  private OciBundle() {}

  /**
   * Creates the sandbox's directory, atomically: the one create that succeeds owns the id.
   *
   * @throws SandboxRuntimeException if it exists ("already exists") or cannot be created
   */
  static void claim(Path sandboxesDir, Path dir, String sandboxId) {
    try {
      Files.createDirectories(sandboxesDir);
      Files.createDirectory(dir);
    } catch (FileAlreadyExistsException e) {
      throw new SandboxRuntimeException("sandbox " + sandboxId + " already exists", e);
    } catch (IOException e) {
      throw new SandboxRuntimeException("cannot create " + dir + ": " + e.getMessage(), e);
    }
  }

  /**
   * Writes {@code hosts} and {@code resolv.conf}, mounts the overlay rootfs and writes {@code
   * config.json} in the claimed directory {@code dir}, after {@code adjust} changed it for the
   * runtime.
   */
  static void write(
      Path dir,
      SandboxSpec spec,
      String cgroupsPath,
      boolean limitSwap,
      int oomScoreAdj,
      Consumer<JsonObject> adjust)
      throws IOException {
    Path hosts = dir.resolve("hosts");
    Path resolvConf = dir.resolve("resolv.conf");
    Files.writeString(hosts, spec.hostsFile());
    Files.writeString(resolvConf, spec.resolvConf());
    OverlayRootfs.in(dir, spec.templateRootfs()).mount();
    JsonObject config = OciConfig.of(spec, hosts, resolvConf, cgroupsPath, limitSwap, oomScoreAdj);
    adjust.accept(config);
    Files.writeString(dir.resolve("config.json"), GSON.toJson(config));
  }

  /** Whether the host accounts swap, so that memory + swap can be limited (v1 memsw, or v2). */
  static boolean hostLimitsSwap() {
    return Files.exists(CGROUP_ROOT.resolve("memory/memory.memsw.limit_in_bytes"))
        || Files.exists(CGROUP_ROOT.resolve("cgroup.controllers"));
  }

  /**
   * The directories of the cgroup {@code relative} (to each hierarchy's root) that exist, in every
   * v1 hierarchy and in the v2 root.
   */
  static List<Path> cgroupDirs(String relative) {
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

  /**
   * Removes what {@code create} left of a sandbox after {@code e} (with {@code remove}) and gives
   * the exception to throw: {@code e} itself if it is a {@link SandboxRuntimeException}.
   */
  static SandboxRuntimeException createFailed(String sandboxId, Exception e, Runnable remove) {
    try {
      remove.run();
    } catch (RuntimeException cleanup) {
      e.addSuppressed(cleanup);
    }
    if (e instanceof SandboxRuntimeException sre) {
      return sre;
    }
    return new SandboxRuntimeException("cannot create sandbox " + sandboxId + ": " + e, e);
  }

  /** An orphan if the sandbox's directory or one of its cgroups is left, else empty. */
  static Optional<RuntimeSandbox> orphan(String sandboxId, Path dir, List<Path> cgroups) {
    return Files.exists(dir) || !cgroups.isEmpty()
        ? Optional.of(new RuntimeSandbox(sandboxId, SandboxState.ORPHANED, 0))
        : Optional.empty();
  }

  /** Adds an orphan for each sandbox directory in {@code sandboxesDir} not yet in {@code found}. */
  static void addOrphans(Path sandboxesDir, Map<String, RuntimeSandbox> found) {
    if (!Files.isDirectory(sandboxesDir)) {
      return;
    }
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(sandboxesDir)) {
      for (Path dir : dirs) {
        String sandboxId = dir.getFileName().toString();
        found.putIfAbsent(sandboxId, new RuntimeSandbox(sandboxId, SandboxState.ORPHANED, 0));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Removes the sandbox's cgroup directories (rmdir: the runtime leaves none unless it crashed
   * half-way), unmounts everything below {@code dir} and deletes it.
   */
  static void remove(Path dir, List<Path> cgroups) {
    for (Path cgroup : cgroups) {
      try {
        Files.deleteIfExists(cgroup);
      } catch (IOException e) {
        throw new SandboxRuntimeException("cannot remove cgroup " + cgroup + ": " + e, e);
      }
    }
    MountTable.unmountBelow(dir);
    DirectoryTree.delete(dir);
  }

  /** Puts the saved {@code upper} at {@code dir/upper}: moved (same filesystem) or copied. */
  static void takeUpper(Path dir, Path upper, boolean consume) throws IOException {
    Path target = dir.resolve("upper");
    if (!Files.isDirectory(upper)) {
      throw new SandboxRuntimeException("no saved upper directory at " + upper);
    }
    if (consume) {
      Files.move(upper, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      return;
    }
    // cp -a keeps owners, modes, times, xattrs (overlayfs' opaque markers) and whiteout devices
    HostCommand.Result copied =
        HostCommand.run(
            List.of("cp", "-a", "--reflink=auto", upper.toString(), target.toString()),
            java.time.Duration.ofMinutes(10));
    if (!copied.succeeded()) {
      throw new SandboxRuntimeException("cannot copy " + upper + ": " + copied.error());
    }
  }

  /** After a failed restore: a consumed upper goes back where it came from, if it still exists. */
  static void giveBackUpper(Path dir, Path upper, boolean consume, Exception failure) {
    if (!consume) {
      return;
    }
    try {
      MountTable.unmountBelow(dir);
      Path taken = dir.resolve("upper");
      if (Files.isDirectory(taken) && !Files.exists(upper)) {
        Files.move(taken, upper, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (IOException | RuntimeException e) {
      failure.addSuppressed(e);
    }
  }

  /**
   * Removes the sandbox's cgroups and mounts as {@link #remove}, moves {@code dir/upper} to {@code
   * upperTarget}, then deletes {@code dir}.
   */
  static void removeKeepingUpper(Path dir, List<Path> cgroups, Path upperTarget) {
    for (Path cgroup : cgroups) {
      try {
        Files.deleteIfExists(cgroup);
      } catch (IOException e) {
        throw new SandboxRuntimeException("cannot remove cgroup " + cgroup + ": " + e, e);
      }
    }
    MountTable.unmountBelow(dir);
    try {
      Files.createDirectories(upperTarget.getParent());
      Files.move(dir.resolve("upper"), upperTarget, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new SandboxRuntimeException(
          "cannot move the upper directory of " + dir + " to " + upperTarget + ": " + e, e);
    }
    DirectoryTree.delete(dir);
  }
}
