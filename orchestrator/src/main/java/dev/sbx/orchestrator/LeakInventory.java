package dev.sbx.orchestrator;

import static java.util.Objects.requireNonNull;

import dev.sbx.orchestrator.network.NetworkConfig;
import dev.sbx.orchestrator.rootfs.MountTable;
import dev.sbx.orchestrator.runtime.RuncRuntime;
import dev.sbx.orchestrator.runtime.RunscRuntime;
import dev.sbx.orchestrator.runtime.RuntimeSandbox;
import dev.sbx.orchestrator.runtime.SandboxRuntime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Everything on the host that carries a node's names and that no live sandbox owns: containers (and
 * sandbox directories without one), mounts below the sandboxes directory, network namespaces,
 * veths, cgroups, nftables chains and — when no orchestrator runs — the bridge and the nftables
 * tables. What {@code sbx doctor} reports; empty when nothing leaked.
 */
public final class LeakInventory {
  private static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup");
  private static final Pattern EGRESS_CHAIN = Pattern.compile("\\bchain egress_(\\d+) ");

  private LeakInventory() {}

  /**
   * The leaks of the layout {@code config} describes. With {@code running} (the orchestrator of
   * that layout, up), what it owns is no leak: its sandboxes, those being created, its warm
   * sandboxes, its network slots (acquired, ready, being built), the bridge and the tables. Without
   * it, everything of the layout is a leak.
   */
  public static List<String> find(OrchestratorConfig config, @Nullable Orchestrator running) {
    requireNonNull(config, "config");
    Set<String> containers = running == null ? Set.of() : running.lifecycle().containerIds();
    Set<Integer> slots = running == null ? Set.of() : running.lifecycle().network().slotIndexes();
    List<String> leaks = new ArrayList<>();
    String containerPrefix;
    String cgroupParent;
    Path sandboxesDir;
    SandboxRuntime runtime;
    switch (config.runtime()) {
      case RUNC -> {
        runtime = new RuncRuntime(config.runc());
        containerPrefix = config.runc().containerPrefix();
        cgroupParent = config.runc().cgroupParent();
        sandboxesDir = config.runc().sandboxesDir();
      }
      case RUNSC -> {
        runtime = new RunscRuntime(config.runsc());
        containerPrefix = config.runsc().containerPrefix();
        cgroupParent = config.runsc().cgroupParent();
        sandboxesDir = config.runsc().sandboxesDir();
      }
      default -> throw new IllegalStateException("unknown runtime " + config.runtime());
    }
    for (RuntimeSandbox found : runtime.list()) {
      if (!containers.contains(found.sandboxId())) {
        leaks.add("container " + containerPrefix + found.sandboxId() + " (" + found.state() + ")");
      }
    }
    for (Path mount : MountTable.mountPointsUnder(sandboxesDir)) {
      Path relative = sandboxesDir.relativize(mount);
      if (relative.getNameCount() == 0 || !containers.contains(relative.getName(0).toString())) {
        leaks.add("mount " + mount);
      }
    }
    for (Path cgroup : cgroups(cgroupParent)) {
      String name = cgroup.getFileName().toString();
      if (!name.startsWith(containerPrefix)
          || !containers.contains(name.substring(containerPrefix.length()))) {
        leaks.add("cgroup " + cgroup);
      }
    }
    NetworkConfig network = config.network();
    Pattern netns = Pattern.compile(Pattern.quote(network.prefix() + "-") + "([0-9]+)");
    for (String name : namespaces()) {
      Matcher m = netns.matcher(name);
      if (m.matches() && !slots.contains(Integer.parseInt(m.group(1)))) {
        leaks.add("netns " + name);
      }
    }
    Pattern veth = Pattern.compile(Pattern.quote(network.prefix() + "v") + "([0-9]+)");
    boolean bridge = false;
    for (String name : links()) {
      Matcher m = veth.matcher(name);
      if (m.matches() && !slots.contains(Integer.parseInt(m.group(1)))) {
        leaks.add("veth " + name);
      }
      bridge |= name.equals(network.bridge());
    }
    String inet = run("nft", "list", "table", "inet", network.table());
    if (inet != null) {
      Matcher chains = EGRESS_CHAIN.matcher(inet);
      while (chains.find()) {
        if (!slots.contains(Integer.parseInt(chains.group(1)))) {
          leaks.add("nft chain inet " + network.table() + " egress_" + chains.group(1));
        }
      }
    }
    if (running == null) {
      if (bridge) {
        leaks.add("bridge " + network.bridge());
      }
      if (inet != null) {
        leaks.add("nft table inet " + network.table());
      }
      if (run("nft", "list", "table", "bridge", network.table()) != null) {
        leaks.add("nft table bridge " + network.table());
      }
    }
    return leaks;
  }

  /** The cgroup directories below {@code parent} in every hierarchy (and the v2 root). */
  private static List<Path> cgroups(String parent) {
    List<Path> found = new ArrayList<>();
    List<Path> parents = new ArrayList<>();
    try (DirectoryStream<Path> hierarchies = Files.newDirectoryStream(CGROUP_ROOT)) {
      for (Path hierarchy : hierarchies) {
        parents.add(hierarchy.resolve(parent));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    parents.add(CGROUP_ROOT.resolve(parent));
    for (Path dir : parents) {
      if (!Files.isDirectory(dir)) {
        continue;
      }
      try (DirectoryStream<Path> children = Files.newDirectoryStream(dir, Files::isDirectory)) {
        for (Path child : children) {
          if (!found.contains(child)) {
            found.add(child);
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return found;
  }

  private static List<String> namespaces() {
    Path dir = Path.of("/run/netns");
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (var entries = Files.list(dir)) {
      return entries.map(p -> p.getFileName().toString()).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<String> links() {
    try (var entries = Files.list(Path.of("/sys/class/net"))) {
      return entries.map(p -> p.getFileName().toString()).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The command's stdout, or null if it failed. */
  private static @Nullable String run(String... command) {
    try {
      Process process =
          new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      process.getOutputStream().close();
      byte[] out = process.getInputStream().readAllBytes();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return null;
      }
      return process.exitValue() == 0
          ? new String(out, java.nio.charset.StandardCharsets.UTF_8)
          : null;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
