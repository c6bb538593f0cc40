package dev.sbx.envd.dist;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A rootfs that holds nothing but a copy of the dist's static busybox (no libc, no shell at {@code
 * /bin/sh}), in which commands run the way a sandbox runs envd: each in new mount and PID
 * namespaces (util-linux {@code unshare}), with the dist bind-mounted read-only at {@code /opt/sbx}
 * and {@code /proc} mounted, then {@code chroot}. The mounts live only in that mount namespace, so
 * they vanish with its processes; {@link #close()} kills every process it started and deletes the
 * rootfs.
 */
final class BareRootfs implements AutoCloseable {
  static final String DIST = "/opt/sbx";

  /** Runs in the new namespaces with the host's view: mounts, then chroot and exec the command. */
  private static final String SETUP =
      """
      bb=$0 dist=$1 root=$2; shift 2
      $bb mount --bind "$dist" "$root/opt/sbx" \
        && $bb mount -o remount,bind,ro "$root/opt/sbx" \
        && $bb mount -t proc proc "$root/proc" \
        && exec $bb chroot "$root" "$@"
      """;

  private final Path dist;
  private final Path root;
  private final List<Process> started = new ArrayList<>();

  private BareRootfs(Path dist, Path root) {
    this.dist = dist;
    this.root = root;
  }

  static BareRootfs create(Path dist) throws IOException {
    requireNonNull(dist, "dist");
    Path root = Files.createTempDirectory("envd-rootfs-");
    try {
      // a rootfs's / is 0755 (a temporary directory is 0700): a process that envd-exec has switched
      // to another user must be able to reach /opt/sbx
      Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
      Files.createDirectories(root.resolve("bin"));
      Files.copy(
          dist.resolve("bin/busybox"),
          root.resolve("bin/busybox"),
          StandardCopyOption.COPY_ATTRIBUTES);
      Files.createDirectories(root.resolve("opt/sbx"));
      Files.createDirectories(root.resolve("proc"));
      Path tmp = Files.createDirectories(root.resolve("tmp"));
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxrwxrwx"));
    } catch (IOException e) {
      delete(root);
      throw e;
    }
    return new BareRootfs(dist.toRealPath(), root);
  }

  /** The rootfs on the host, to put files into it. */
  Path root() {
    return root;
  }

  /**
   * Starts {@code command} inside the rootfs as PID 1 of a new PID namespace, with exactly {@code
   * env} as its environment, stdout and stderr to {@code output}.
   */
  Process start(List<String> command, Map<String, String> env, Path output) throws IOException {
    List<String> argv = new ArrayList<>();
    argv.addAll(List.of("unshare", "--mount", "--pid", "--fork", "--kill-child", "--"));
    String busybox = dist.resolve("bin/busybox").toString();
    argv.addAll(List.of(busybox, "sh", "-c", SETUP, busybox, dist.toString(), root.toString()));
    argv.addAll(command);
    ProcessBuilder builder = new ProcessBuilder(argv).redirectErrorStream(true);
    builder.redirectOutput(output.toFile());
    builder.environment().clear();
    builder.environment().putAll(env);
    Process process = builder.start();
    started.add(process);
    return process;
  }

  @Override
  public void close() throws IOException, InterruptedException {
    for (Process process : started) {
      // unshare --kill-child: when unshare dies its child, PID 1 of the namespace, gets SIGKILL,
      // and with it every process of the namespace.
      List<ProcessHandle> inside = process.descendants().toList();
      process.destroyForcibly().waitFor();
      Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
      while (inside.stream().anyMatch(ProcessHandle::isAlive)) {
        if (Instant.now().isAfter(deadline)) {
          throw new IllegalStateException("processes outlived their namespace: " + inside);
        }
        Thread.sleep(10);
      }
    }
    delete(root);
  }

  private static void delete(Path tree) throws IOException {
    try (Stream<Path> paths = Files.walk(tree)) {
      paths
          .sorted(Comparator.reverseOrder())
          .forEach(
              path -> {
                try {
                  Files.delete(path);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    }
  }
}
