package dev.sbx.orchestrator.runtime;

import static org.assertj.core.api.Assertions.assertThat;

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
 * {@link RuncRuntime} against the contract, plus what only runc shows: its container list, the
 * cgroup files, live limit changes, adoption of orphans. Containers are {@code sbxt-…} in a runc
 * root of their own; cgroups live below {@code /sbxt}, removed after the class.
 */
class RuncRuntimeTest extends SandboxRuntimeContractTest {
  static final String CGROUP_PARENT = "sbxt";

  @BeforeAll
  static void runcIsInstalled() throws Exception {
    Process version = new ProcessBuilder("runc", "--version").redirectErrorStream(true).start();
    assertThat(version.waitFor())
        .as("runc on the PATH: run scripts/install-deps.sh orchestrator")
        .isZero();
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
    return new RuncRuntime(settings(workDir));
  }

  static RuncSettings settings(Path workDir) {
    return new RuncSettings(
        Path.of("runc"),
        workDir.resolve("runc-state"),
        workDir.resolve("sandboxes"),
        "sbxt-",
        CGROUP_PARENT);
  }

  @Override
  protected boolean hasBehavior(Behavior behavior) {
    return switch (behavior) {
      case OOM_KILLS_ONLY_THE_PROCESS, PIDS_LIMIT_FAILS_ONLY_THE_FORK -> true;
    };
  }

  RuncRuntime runc() {
    return (RuncRuntime) runtime;
  }

  @Override
  protected List<String> leftovers(String sandboxId) {
    List<String> left = new ArrayList<>();
    HostCommand.Result list =
        HostCommand.run(
            List.of("runc", "--root", settings(workDir).stateRoot().toString(), "list", "-q"),
            Duration.ofSeconds(10));
    if (list.stdout().lines().anyMatch(runc().containerId(sandboxId)::equals)) {
      left.add("runc container " + runc().containerId(sandboxId));
    }
    left.addAll(bundleLeftovers(runc().sandboxDir(sandboxId), runc().cgroupDirs(sandboxId)));
    return left;
  }

  @Override
  protected Path upperDir(String sandboxId) {
    return runc().sandboxDir(sandboxId).resolve("upper");
  }

  @Override
  Path cgroup(String hierarchy, String sandboxId) {
    return Path.of("/sys/fs/cgroup", hierarchy, CGROUP_PARENT, runc().containerId(sandboxId));
  }

  @Test
  void limitsAreWrittenToTheCgroupsAndChangeLive() throws Exception {
    String id = newSandboxId();
    runtime.create(spec(id).withLimits(new ResourceLimits(2, 256, 128)));

    assertCgroupLimits(id, 256L << 20, "200000", "128");

    runtime.updateLimits(id, new ResourceLimits(1, 384, 200));

    assertCgroupLimits(id, 384L << 20, "100000", "200");
    awaitHealthy();
  }

  @Test
  void theOomKillIsCountedByTheSandboxsMemoryCgroup() throws Exception {
    String id = newSandboxId();
    runtime.create(spec(id).withLimits(new ResourceLimits(1, 256, 256)));
    awaitHealthy();

    exec(
        id,
        "echo 100 > /proc/self/oom_score_adj && exec dd if=/dev/zero of=/dev/null bs=400M count=1");

    String oomControl = cgroupFile(cgroup("memory", id).resolve("memory.oom_control"));
    assertThat(oomControl).contains("oom_kill 1");
  }

  @Test
  void theContainerIsNamedWithThePrefixAndItsStdioIsDevNull() throws Exception {
    String id = newSandboxId();
    RuntimeSandbox sandbox = runtime.create(spec(id));

    HostCommand.Result list =
        HostCommand.run(
            List.of("runc", "--root", settings(workDir).stateRoot().toString(), "list", "-q"),
            Duration.ofSeconds(10));
    assertThat(list.stdout().lines()).containsExactly("sbxt-" + id);
    for (String fd : List.of("0", "1", "2")) {
      assertThat(
              Files.readSymbolicLink(Path.of("/proc", Integer.toString(sandbox.pid()), "fd", fd)))
          .isEqualTo(Path.of("/dev/null"));
    }
  }

  @Test
  void leftoversOfAHalfMadeSandboxAreListedAsOrphanedAndRemoved() throws Exception {
    String id = newSandboxId();
    // what a crash between mounting the rootfs and runc run leaves: a directory with a mount
    Path dir = runc().sandboxDir(id);
    dev.sbx.orchestrator.rootfs.OverlayRootfs.in(dir, template).mount();

    assertThat(runtime.list()).contains(new RuntimeSandbox(id, SandboxState.ORPHANED, 0));
    assertThat(runtime.find(id)).contains(new RuntimeSandbox(id, SandboxState.ORPHANED, 0));

    runtime.remove(id);

    assertThat(leftovers(id)).isEmpty();
  }

  /** runc run → envd's first 204, ten times; prints the runs and the median. */
  @Test
  @EnabledIfSystemProperty(named = "sbx.measure", matches = "true")
  void measureCreateToHealthy() throws Exception {
    measureCreateToHealthy(10, "create (mount + runc run -d + state)", "create → envd /health 204");
  }
}
