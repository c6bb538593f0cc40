package dev.sbx.orchestrator.runtime;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.sbx.orchestrator.rootfs.OverlayRootfs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The files of one sandbox's OCI bundle on the host, as every OCI runtime here takes them: the
 * sandbox's directory {@code <sandboxesDir>/<id>/} holding the overlay ({@link OverlayRootfs}:
 * {@code upper/}, {@code work/}, mounted at {@code rootfs/}), the generated {@code hosts} and
 * {@code resolv.conf} and {@code config.json} ({@link OciConfig}); and the sandbox's cgroup
 * directories.
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
}
