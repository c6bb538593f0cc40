package dev.sbx.bench;

import dev.sbx.orchestrator.LeakInventory;
import dev.sbx.orchestrator.Orchestrator;
import dev.sbx.orchestrator.OrchestratorConfig;
import dev.sbx.orchestrator.lifecycle.LifecycleSettings;
import dev.sbx.orchestrator.lifecycle.WarmPoolSettings;
import dev.sbx.orchestrator.network.Ipv4Cidr;
import dev.sbx.orchestrator.network.NetworkConfig;
import dev.sbx.orchestrator.rootfs.DirectoryTree;
import dev.sbx.orchestrator.runtime.RuncSettings;
import dev.sbx.orchestrator.runtime.RunscSettings;
import dev.sbx.orchestrator.template.Template;
import dev.sbx.orchestrator.template.TemplateDirectory;
import dev.sbx.orchestrator.template.TemplateSettings;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * An orchestrator of the benchmarks' own, in this JVM: layout {@code sbxs} (containers {@code
 * sbxs-…}, cgroups below {@code /sbxs}, bridge {@code sbxs0}, addresses from {@code
 * 10.242.0.0/24}), a work directory {@code /tmp/sbxs-bench-…} with busybox templates, runc or
 * runsc. {@link #close} stops it (deleting every sandbox and the network), checks with {@link
 * LeakInventory} that nothing of the layout is left, removes the cgroup parent and deletes the work
 * directory. Needs root, runc (or runsc), nftables and busybox-static. Only one benchmark on this
 * layout may run at a time.
 */
final class BenchNode implements AutoCloseable {
  static final String PREFIX = "sbxs";

  final OrchestratorConfig config;
  final Orchestrator orchestrator;
  final ManagedChannel channel;
  private final Path workDir;

  private BenchNode(
      OrchestratorConfig config, Orchestrator orchestrator, ManagedChannel channel, Path workDir) {
    this.config = config;
    this.orchestrator = orchestrator;
    this.channel = channel;
    this.workDir = workDir;
  }

  /**
   * Starts a node.
   *
   * @param runtime {@code runc} or {@code runsc}
   * @param templates template id → warm pool size (0: none); each is a busybox rootfs with the
   *     default settings
   * @param maxSandboxes the node's maximum
   * @param readySlots network slots kept built ahead
   */
  static BenchNode start(
      Path envdDist,
      String runtime,
      Map<String, Integer> templates,
      int maxSandboxes,
      int readySlots)
      throws IOException, InterruptedException {
    Path workDir = Files.createTempDirectory(PREFIX + "-bench-");
    try {
      OrchestratorConfig config =
          new OrchestratorConfig(
                  InetAddress.getLoopbackAddress(),
                  0,
                  workDir.resolve("templates"),
                  new RuncSettings(
                      Path.of("runc"),
                      workDir.resolve("runc-state"),
                      workDir.resolve("sandboxes"),
                      PREFIX + "-",
                      PREFIX),
                  new NetworkConfig(
                      PREFIX, PREFIX + "0", Ipv4Cidr.parse("10.242.0.0/24"), readySlots),
                  new LifecycleSettings(
                      envdDist,
                      maxSandboxes,
                      Duration.ofSeconds(120),
                      Duration.ofMillis(50),
                      List.of()))
              .withNodeProxy("127.0.0.1", 0)
              .withWarmPool(new WarmPoolSettings(0, templates));
      if (runtime.equals("runsc")) {
        config =
            config.withRunsc(
                new RunscSettings(
                    Path.of("runsc"),
                    workDir.resolve("runsc-state"),
                    workDir.resolve("sandboxes-runsc"),
                    PREFIX + "-",
                    PREFIX,
                    "systrap"));
      } else if (!runtime.equals("runc")) {
        throw new IllegalArgumentException("runtime: runc or runsc, not " + runtime);
      }
      for (String id : templates.keySet()) {
        Path template = workDir.resolve("templates").resolve(id);
        busyboxTemplate(template.resolve(Template.ROOTFS_DIR));
        TemplateDirectory.writeSettings(template, TemplateSettings.DEFAULT);
      }
      Orchestrator orchestrator = Orchestrator.start(config);
      ManagedChannel channel =
          Grpc.newChannelBuilderForAddress(
                  "127.0.0.1", orchestrator.port(), InsecureChannelCredentials.create())
              .build();
      return new BenchNode(config, orchestrator, channel, workDir);
    } catch (IOException | InterruptedException | RuntimeException e) {
      DirectoryTree.delete(workDir);
      throw e;
    }
  }

  @Override
  public void close() throws InterruptedException {
    try {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      orchestrator.close();
      List<String> leaks = LeakInventory.find(config, null);
      if (!leaks.isEmpty()) {
        System.err.println("left on the host: " + leaks);
      }
    } finally {
      try {
        removeCgroupParent();
      } finally {
        DirectoryTree.delete(workDir);
      }
    }
  }

  /**
   * rmdir of {@code /<PREFIX>} in every cgroup hierarchy (left by runc; empty once all are gone).
   */
  private static void removeCgroupParent() {
    try (var hierarchies = Files.newDirectoryStream(Path.of("/sys/fs/cgroup"))) {
      for (Path hierarchy : hierarchies) {
        try {
          Files.deleteIfExists(hierarchy.resolve(PREFIX));
        } catch (IOException e) {
          System.err.println("cannot remove " + hierarchy.resolve(PREFIX) + ": " + e);
        }
      }
    } catch (IOException e) {
      System.err.println("cannot list /sys/fs/cgroup: " + e);
    }
  }

  /** A busybox rootfs: the static binary, its applets, root and user 1000, /tmp 1777. */
  static void busyboxTemplate(Path dir) throws IOException, InterruptedException {
    Path busybox = Path.of("/bin/busybox");
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Files.copy(busybox, bin.resolve("busybox"));
    Process list = new ProcessBuilder(busybox.toString(), "--list").start();
    String applets = new String(list.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (list.waitFor() != 0) {
      throw new IllegalStateException("busybox --list failed");
    }
    for (String applet : applets.lines().toList()) {
      if (!applet.equals("busybox")) {
        Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
      }
    }
    Path etc = Files.createDirectories(dir.resolve("etc"));
    Files.writeString(
        etc.resolve("passwd"),
        "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n");
    Files.writeString(etc.resolve("group"), "root:x:0:\nuser:x:1000:\n");
    Path tmp = Files.createDirectories(dir.resolve("tmp"));
    Files.createDirectories(dir.resolve("root"));
    Path home = Files.createDirectories(dir.resolve("home/user"));
    Files.setAttribute(home, "unix:uid", 1000);
    Files.setAttribute(home, "unix:gid", 1000);
    if (new ProcessBuilder("chmod", "1777", tmp.toString()).start().waitFor() != 0) {
      throw new IllegalStateException("chmod 1777 " + tmp + " failed");
    }
  }
}
