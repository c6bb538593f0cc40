package dev.sbx.orchestrator.rootfs;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One sandbox's overlayfs root: {@code lower} (the template's rootfs, never written) below, {@code
 * upper} taking every change, {@code work} for overlayfs' own use, mounted at {@code mountPoint}.
 * The three per-sandbox directories live in one directory of the sandbox ({@link #in}) and must be
 * on the same filesystem, which must not itself be an overlayfs.
 *
 * @param lower the template's rootfs directory (read-only lower layer)
 * @param upper the sandbox's upper directory: its files, removed with the sandbox
 * @param work overlayfs' work directory, next to {@code upper}
 * @param mountPoint where the merged tree is mounted (the OCI bundle's {@code rootfs})
 */
public record OverlayRootfs(Path lower, Path upper, Path work, Path mountPoint) {
  public OverlayRootfs {
    lower = absolute(lower, "lower");
    upper = absolute(upper, "upper");
    work = absolute(work, "work");
    mountPoint = absolute(mountPoint, "mountPoint");
  }

  /** The layout used for a sandbox: {@code dir/upper}, {@code dir/work}, {@code dir/rootfs}. */
  public static OverlayRootfs in(Path sandboxDir, Path lower) {
    requireNonNull(sandboxDir, "sandboxDir");
    return new OverlayRootfs(
        lower,
        sandboxDir.resolve("upper"),
        sandboxDir.resolve("work"),
        sandboxDir.resolve("rootfs"));
  }

  private static Path absolute(Path path, String name) {
    requireNonNull(path, name);
    Path normalized = path.toAbsolutePath().normalize();
    // overlayfs' option string separates with ',' and lowerdir layers with ':'; '\' escapes
    String text = normalized.toString();
    if (text.contains(",") || text.contains(":") || text.contains("\\")) {
      throw new IllegalArgumentException(name + " must not contain ',', ':' or '\\': " + text);
    }
    return normalized;
  }

  /** Creates the upper, work and mount point directories and mounts the overlay. */
  public void mount() {
    if (!Files.isDirectory(lower)) {
      throw new IllegalArgumentException("template rootfs is not a directory: " + lower);
    }
    try {
      Files.createDirectories(upper);
      Files.createDirectories(work);
      Files.createDirectories(mountPoint);
      MountSyscalls.mount(
          "overlay",
          mountPoint,
          "overlay",
          0L,
          "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Whether the overlay is mounted at {@link #mountPoint}. */
  public boolean isMounted() {
    return MountTable.isMountPoint(mountPoint);
  }

  /**
   * Unmounts everything at or below the mount point (deepest first); lazily if a mount is still
   * busy. Does nothing if nothing is mounted.
   */
  public void unmount() {
    MountTable.unmountBelow(mountPoint);
  }

  /** Unmounts, then deletes the upper, work and mount point directories (the sandbox's files). */
  public void remove() {
    unmount();
    DirectoryTree.delete(upper);
    DirectoryTree.delete(work);
    DirectoryTree.delete(mountPoint);
  }
}
