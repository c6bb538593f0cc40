package dev.sbx.orchestrator.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * {@link RunscRuntime} (gVisor, systrap) against the contract, plus what only runsc shows: netstack
 * owning the namespace's address while the sandbox runs and giving it back, the refusal of the
 * host's namespace, cgroup limits written without {@code runsc update}. The sandboxes join a {@link
 * TestNetns#createLinked linked} namespace (netstack's loopback is its own, so envd is asked on
 * {@code eth0} from the peer). Containers are {@code sbxt-…} in a runsc root of their own; cgroups
 * live below {@code /sbxt}, removed after the class.
 */
class RunscRuntimeTest extends SandboxRuntimeContractTest {
  static final String CGROUP_PARENT = "sbxt-runsc";
  static final long MIN_RELEASE = 20240729;

  @BeforeAll
  static void runscIsInstalled() throws Exception {
    HostCommand.Result version =
        HostCommand.run(List.of("runsc", "--version"), Duration.ofSeconds(10));
    assertThat(version.exitCode())
        .as("runsc on the PATH: run scripts/install-deps.sh orchestrator (%s)", version.stderr())
        .isZero();
    // "runsc version 0.0~20240729.0" (Debian) or "runsc version release-20240729.0"
    String release =
        version.stdout().replaceAll("(?s)^runsc version \\D*(0\\.0~)?(\\d{8}).*", "$2");
    assertThat(release)
        .as("runsc %s or newer (systrap): scripts/install-deps.sh orchestrator", MIN_RELEASE)
        .matches("\\d{8}");
    assertThat(Long.parseLong(release))
        .as("runsc %s or newer (systrap): scripts/install-deps.sh orchestrator", MIN_RELEASE)
        .isGreaterThanOrEqualTo(MIN_RELEASE);
  }

  @AfterAll
  static void removeCgroupParent() throws IOException {
    try (DirectoryStream<Path> hierarchies = Files.newDirectoryStream(Path.of("/sys/fs/cgroup"))) {
      for (Path hierarchy : hierarchies) {
        Files.deleteIfExists(hierarchy.resolve(CGROUP_PARENT)); // rmdir: fails if not empty
      }
    }
  }

  @Override
  protected SandboxRuntime runtime(Path workDir) {
    return new RunscRuntime(settings(workDir));
  }

  @Override
  protected TestNetns network() throws Exception {
    return TestNetns.createLinked();
  }

  @Override
  protected boolean hasBehavior(Behavior behavior) {
    return switch (behavior) {
      // the sentry is one host process in the memory cgroup: the host's OOM killer ends it all
      case OOM_KILLS_ONLY_THE_PROCESS -> false;
      // the sentry's threads count against the host's pids limit: it dies when it cannot make one
      case PIDS_LIMIT_FAILS_ONLY_THE_FORK -> false;
    };
  }

  static RunscSettings settings(Path workDir) {
    return new RunscSettings(
        Path.of("runsc"),
        workDir.resolve("runsc-state"),
        workDir.resolve("sandboxes"),
        "sbxt-",
        CGROUP_PARENT,
        "systrap");
  }

  RunscRuntime runsc() {
    return (RunscRuntime) runtime;
  }

  List<String> runscContainers() {
    Path root = settings(workDir).stateRoot();
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    return HostCommand.run(
            List.of("runsc", "--root", root.toString(), "list", "-quiet"), Duration.ofSeconds(10))
        .stdout()
        .lines()
        .toList();
  }

  @Override
  protected List<String> leftovers(String sandboxId) {
    List<String> left = new ArrayList<>();
    if (runscContainers().contains(runsc().containerId(sandboxId))) {
      left.add("runsc container " + runsc().containerId(sandboxId));
    }
    left.addAll(bundleLeftovers(runsc().sandboxDir(sandboxId), runsc().cgroupDirs(sandboxId)));
    return left;
  }

  @Override
  protected Path upperDir(String sandboxId) {
    return runsc().sandboxDir(sandboxId).resolve("upper");
  }

  @Override
  Path cgroup(String hierarchy, String sandboxId) {
    return Path.of("/sys/fs/cgroup", hierarchy, CGROUP_PARENT, runsc().containerId(sandboxId));
  }

  String eth0Addresses() throws Exception {
    return HostCommand.run(
            List.of("ip", "-n", netns.name(), "-4", "-o", "address", "show", "dev", "eth0"),
            Duration.ofSeconds(10))
        .stdout();
  }

  @Test
  void netstackOwnsTheAddressWhileTheSandboxRunsAndGivesItBack() throws Exception {
    String id = newSandboxId();
    String address = netns.address();
    assertThat(eth0Addresses()).contains(address + "/30");

    runtime.create(spec(id));
    awaitHealthy();

    assertThat(eth0Addresses()).as("the host kernel no longer has it").doesNotContain(address);
    ExecResult inside = exec(id, "ip -4 -o address show eth0");
    assertThat(inside.stdout()).as("%s", inside).contains(address + "/30");

    runtime.remove(id);

    assertThat(eth0Addresses()).contains(address + "/30");
    // the namespace takes the next sandbox
    String next = newSandboxId();
    runtime.create(spec(next));
    awaitHealthy();
  }

  @Test
  void theHostsNetworkNamespaceIsRefused() {
    String id = newSandboxId();

    assertThatThrownBy(
            () -> runtime.create(spec(id).withNetworkNamespace(Path.of("/proc/self/ns/net"))))
        .isInstanceOf(SandboxRuntimeException.class)
        .hasMessageContaining("host's network namespace");
    assertThat(leftovers(id)).isEmpty();
  }

  @Test
  void theSandboxRunsInGvisorOnTheSystrapPlatform() throws Exception {
    String id = newSandboxId();
    runtime.create(spec(id));

    // gVisor's kernel says so in dmesg; uname is its own
    ExecResult dmesg = exec(id, "dmesg | head -1; uname -r");

    assertThat(dmesg.stdout()).as("%s", dmesg).contains("gVisor");
    assertThat(dmesg.stdout()).doesNotContain(System.getProperty("os.version"));
    assertThat(runscContainers()).containsExactly("sbxt-" + id);
  }

  @Test
  void limitsAreWrittenToTheCgroupsAndChangeLive() throws Exception {
    String id = newSandboxId();
    runtime.create(spec(id).withLimits(new ResourceLimits(2, 256, 128)));

    assertCgroupLimits(id, 256L << 20, "200000", "128");

    runtime.updateLimits(id, new ResourceLimits(1, 384, 200));

    assertCgroupLimits(id, 384L << 20, "100000", "200");

    runtime.updateLimits(id, new ResourceLimits(1, 192, 200));

    assertThat(cgroupFile(cgroup("memory", id).resolve("memory.limit_in_bytes")))
        .isEqualTo(Long.toString(192L << 20));
    awaitHealthy();
  }

  /** runsc run → envd's first 204, five times; prints the runs and the median. */
  @Test
  @EnabledIfSystemProperty(named = "sbx.measure", matches = "true")
  void measureCreateToHealthy() throws Exception {
    measureCreateToHealthy(
        5, "runsc create (mount + runsc run -d)", "runsc create → envd /health 204");
  }
}
