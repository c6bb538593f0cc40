package dev.sbx.orchestrator.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sbx.orchestrator.fixture.TestTemplate;
import dev.sbx.orchestrator.rootfs.MountTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every {@link SandboxRuntime} must do, run for real (root, the runtime's binary, envd's dist
 * from {@code envd/target/envd-dist}). Each test gets a busybox template ({@link TestTemplate}) and
 * a private network namespace with only loopback ({@link TestNetns}); envd's {@code /health} is
 * asked from inside that namespace. After each test every sandbox is removed and {@link #leftovers}
 * must be empty.
 */
abstract class SandboxRuntimeContractTest {
  static final int ENVD_PORT = 49983;
  static final Duration HEALTHY_WITHIN = Duration.ofSeconds(30);
  static final Duration EXEC_TIMEOUT = Duration.ofSeconds(30);

  @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.NEVER)
  Path workDir;

  Path template;
  TestNetns netns;
  final List<String> created = new ArrayList<>();

  /** The runtime under test, keeping its state below {@code workDir}. */
  protected abstract SandboxRuntime runtime(Path workDir);

  /** Where runtimes legitimately differ; each runtime's test declares what its runtime does. */
  protected enum Behavior {
    /**
     * A process that exceeds the memory limit is OOM-killed alone; envd and the sandbox live on.
     * Without it, exceeding the limit ends the whole sandbox (gVisor: the sentry is one host
     * process), which the contract then checks instead.
     */
    OOM_KILLS_ONLY_THE_PROCESS,
    /**
     * At the pids limit only the fork fails; envd and the sandbox live on. Without it, reaching the
     * limit ends the whole sandbox (gVisor: the sentry's threads count against the host's pids
     * limit, and it dies when it cannot make one), which the contract then checks instead.
     */
    PIDS_LIMIT_FAILS_ONLY_THE_FORK
  }

  /** Whether the runtime under test has the behaviour. */
  protected abstract boolean hasBehavior(Behavior behavior);

  /**
   * The network namespace each test's sandboxes join; envd's {@code /health} is asked through it.
   * By default only loopback, asked from inside.
   */
  protected TestNetns network() throws Exception {
    return TestNetns.create();
  }

  /** The runtime's own state, created in {@link #setUpRuntime}. */
  protected SandboxRuntime runtime;

  /**
   * Everything of the sandbox still on the host (container, mounts, cgroups, files), described;
   * empty once it is removed.
   */
  protected abstract List<String> leftovers(String sandboxId);

  /**
   * What is left of an OCI bundle ({@link OciBundle}): mounts below the sandbox's directory, its
   * cgroup directories, the directory itself.
   */
  static List<String> bundleLeftovers(Path sandboxDir, List<Path> cgroupDirs) {
    List<String> left = new ArrayList<>();
    for (Path mount : MountTable.mountPointsUnder(sandboxDir)) {
      left.add("mount " + mount);
    }
    for (Path cgroup : cgroupDirs) {
      left.add("cgroup " + cgroup);
    }
    if (Files.exists(sandboxDir)) {
      left.add("directory " + sandboxDir);
    }
    return left;
  }

  /** The directory on the host that takes the sandbox's writes (the overlay's upper layer). */
  protected abstract Path upperDir(String sandboxId);

  /**
   * Creates {@code runs} sandboxes one after the other, each removed once envd's /health answers,
   * and prints the times to create and to envd's first 204 (each run and the median).
   */
  void measureCreateToHealthy(int runs, String createLabel, String healthyLabel) throws Exception {
    long[] createMillis = new long[runs];
    long[] healthyMillis = new long[runs];
    for (int i = 0; i < runs; i++) {
      String id = newSandboxId();
      long start = System.nanoTime();
      runtime.create(spec(id));
      createMillis[i] = (System.nanoTime() - start) / 1_000_000;
      awaitHealthy();
      healthyMillis[i] = (System.nanoTime() - start) / 1_000_000;
      runtime.remove(id);
    }
    System.out.printf(
        "%s: %s ms, median %d%n", createLabel, Arrays.toString(createMillis), median(createMillis));
    System.out.printf(
        "%s: %s ms, median %d%n",
        healthyLabel, Arrays.toString(healthyMillis), median(healthyMillis));
  }

  static long median(long[] values) {
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  /** The sandbox's cgroup directory in the cgroup v1 {@code hierarchy} ("memory"). */
  abstract Path cgroup(String hierarchy, String sandboxId);

  static String cgroupFile(Path file) throws IOException {
    return Files.readString(file).strip();
  }

  /** Asserts the sandbox's v1 cgroup files: memory limit, CFS quota and period, pids limit. */
  void assertCgroupLimits(String sandboxId, long memoryBytes, String cpuQuota, String pidsMax)
      throws IOException {
    assertThat(cgroupFile(cgroup("memory", sandboxId).resolve("memory.limit_in_bytes")))
        .isEqualTo(Long.toString(memoryBytes));
    assertThat(cgroupFile(cgroup("cpu", sandboxId).resolve("cpu.cfs_quota_us")))
        .isEqualTo(cpuQuota);
    assertThat(cgroupFile(cgroup("cpu", sandboxId).resolve("cpu.cfs_period_us")))
        .isEqualTo("100000");
    assertThat(cgroupFile(cgroup("pids", sandboxId).resolve("pids.max"))).isEqualTo(pidsMax);
  }

  static Path envdDist() {
    return TestTemplate.envdDist();
  }

  @BeforeEach
  void setUpRuntime() throws Exception {
    assertThat(Files.getAttribute(Path.of("/proc/self"), "unix:uid"))
        .as("runtime tests need root")
        .isEqualTo(0);
    template = TestTemplate.build(workDir.resolve("template"));
    netns = network();
    runtime = runtime(workDir);
  }

  @AfterEach
  void removeEverything() throws Exception {
    List<String> left = new ArrayList<>();
    try {
      for (RuntimeSandbox sandbox : runtime.list()) {
        runtime.remove(sandbox.sandboxId());
      }
      for (String id : created) {
        left.addAll(leftovers(id));
      }
    } finally {
      netns.close();
      dev.sbx.orchestrator.rootfs.DirectoryTree.delete(workDir);
    }
    assertThat(left).as("left on the host after remove").isEmpty();
  }

  String newSandboxId() {
    String id = "t" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 20);
    created.add(id);
    return id;
  }

  SandboxSpec spec(String sandboxId) {
    return SandboxSpec.of(sandboxId, template, envdDist()).withNetworkNamespace(netns.path());
  }

  /** Polls envd's /health until 204; returns how long it took. */
  Duration awaitHealthy() throws Exception {
    long start = System.nanoTime();
    long deadline = start + HEALTHY_WITHIN.toNanos();
    int status = -1;
    while (System.nanoTime() < deadline) {
      status = netns.httpStatus(ENVD_PORT, "/health");
      if (status == 204) {
        return Duration.ofNanos(System.nanoTime() - start);
      }
      Thread.sleep(5);
    }
    throw new AssertionError("envd not healthy within " + HEALTHY_WITHIN + ", last " + status);
  }

  ExecResult exec(String sandboxId, String script) {
    return runtime.exec(sandboxId, List.of("/bin/sh", "-c", script), EXEC_TIMEOUT);
  }

  static int expectedEnvdOomScoreAdj() throws IOException {
    String capEff =
        Files.readAllLines(Path.of("/proc/self/status")).stream()
            .filter(line -> line.startsWith("CapEff:"))
            .findFirst()
            .orElseThrow()
            .substring("CapEff:".length())
            .strip();
    boolean sysResource = (Long.parseUnsignedLong(capEff, 16) & (1L << 24)) != 0;
    return sysResource
        ? -1000
        : Integer.parseInt(Files.readString(Path.of("/proc/self/oom_score_adj")).strip());
  }

  @Test
  void createdSandboxRunsEnvdWhichBecomesHealthy() throws Exception {
    String id = newSandboxId();

    RuntimeSandbox sandbox = runtime.create(spec(id));

    assertThat(sandbox.sandboxId()).isEqualTo(id);
    assertThat(sandbox.state()).isEqualTo(SandboxState.RUNNING);
    assertThat(sandbox.pid()).isPositive();
    awaitHealthy();
    assertThat(runtime.find(id))
        .contains(new RuntimeSandbox(id, SandboxState.RUNNING, sandbox.pid()));
    assertThat(runtime.list())
        .contains(new RuntimeSandbox(id, SandboxState.RUNNING, sandbox.pid()));
  }

  @Test
  void aBackgroundSandboxHasTheLeastCpuWeightUntilForegrounded() throws Exception {
    String id = newSandboxId();
    runtime.create(spec(id).inBackground());
    awaitHealthy();
    Path cpuShares = cgroup("cpu", id).resolve("cpu.shares");
    assertThat(cgroupFile(cpuShares)).isEqualTo("2");
    assertCgroupLimits(id, ResourceLimits.DEFAULT.memoryBytes(), "200000", "1024");

    runtime.foreground(id);

    assertThat(cgroupFile(cpuShares)).isEqualTo("1024");
    assertCgroupLimits(id, ResourceLimits.DEFAULT.memoryBytes(), "200000", "1024");
    runtime.foreground(id);
    assertThat(cgroupFile(cpuShares)).isEqualTo("1024");
  }

  @Test
  void execRunsAsRootWithTheSandboxsIdentity() throws Exception {
    String id = newSandboxId();
    runtime.create(spec(id).withEnv(new LinkedHashMap<>(java.util.Map.of("GREETING", "hi"))));

    ExecResult result =
        exec(
            id,
            "id -u; hostname; grep -c \"$(hostname)\" /etc/hosts; echo $GREETING $ENVD_SET_CLOCK");

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(result.stdout()).isEqualTo("0\n" + id + "\n1\nhi true\n");
    ExecResult exit = exec(id, "exit 7");
    assertThat(exit.exitCode()).isEqualTo(7);
  }

  @Test
  void envdIsMountedReadOnlyAndProtectedFromTheOomKiller() throws Exception {
    String id = newSandboxId();
    runtime.create(spec(id));
    awaitHealthy();

    ExecResult write = exec(id, "touch /opt/sbx/x");
    ExecResult oom = exec(id, "cat /proc/1/oom_score_adj");

    assertThat(write.exitCode()).isNotZero();
    assertThat(write.stderr()).contains("Read-only file system");
    // -1000 where the host lets root lower it (CAP_SYS_RESOURCE), else the lowest it may: its own
    assertThat(Integer.parseInt(oom.stdout().strip())).isEqualTo(expectedEnvdOomScoreAdj());
  }

  @Test
  void writesLandInTheUpperLayerAndLeaveTheTemplateUntouched() throws Exception {
    String id = newSandboxId();
    runtime.create(spec(id));

    ExecResult result =
        exec(id, "echo hello > /tmp/new && echo more >> /etc/passwd && rm /etc/group && ls /etc");

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(result.stdout()).doesNotContain("group");
    assertThat(template.resolve("tmp/new")).doesNotExist();
    assertThat(template.resolve("etc/passwd")).content().doesNotContain("more");
    assertThat(template.resolve("etc/group")).exists();
    Path upper = upperDir(id);
    assertThat(upper.resolve("tmp/new")).hasContent("hello");
    assertThat(upper.resolve("etc/passwd")).content().endsWith("more\n");
    // overlayfs' whiteout for the deleted file
    assertThat(Files.exists(upper.resolve("etc/group"), LinkOption.NOFOLLOW_LINKS)).isTrue();
  }

  @Test
  void memoryHogIsOomKilledWhileEnvdLives() throws Exception {
    String id = newSandboxId();
    runtime.create(spec(id).withLimits(new ResourceLimits(1, 256, 256)));
    awaitHealthy();

    // dd's 400 MiB buffer is anonymous memory filled by read(2); envd's children get 100, as here
    ExecResult hog =
        exec(
            id,
            "echo 100 > /proc/self/oom_score_adj && exec dd if=/dev/zero of=/dev/null bs=400M count=1");

    assertThat(hog.exitCode()).as("dd killed: %s", hog).isNotZero();
    if (hasBehavior(Behavior.OOM_KILLS_ONLY_THE_PROCESS)) {
      assertThat(hog.exitCode()).as("dd killed by SIGKILL: %s", hog).isEqualTo(137);
      assertThat(netns.httpStatus(ENVD_PORT, "/health")).isEqualTo(204);
      assertThat(runtime.find(id).orElseThrow().state()).isEqualTo(SandboxState.RUNNING);
    } else {
      // the whole sandbox is gone: its init is no more, envd does not answer; remove cleans up
      awaitNotRunning(id);
      assertThat(netns.httpStatus(ENVD_PORT, "/health")).isNotEqualTo(204);
      runtime.remove(id);
      assertThat(leftovers(id)).isEmpty();
    }
  }

  /** Polls the runtime until the sandbox is not {@link SandboxState#RUNNING}. */
  void awaitNotRunning(String sandboxId) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (runtime.find(sandboxId).map(RuntimeSandbox::state).orElse(SandboxState.STOPPED)
        == SandboxState.RUNNING) {
      assertThat(System.nanoTime()).as("sandbox %s still running", sandboxId).isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  @Test
  void forkBombStopsAtThePidsLimit() throws Exception {
    String id = newSandboxId();
    runtime.create(spec(id).withLimits(new ResourceLimits(1, 256, 100)));
    awaitHealthy();

    // bounded: at most 300 sleepers of 3 s; the shell stops at its first failed fork, having
    // counted the forks with a built-in (while the limit is reached, nothing else can start)
    ExecResult bomb =
        exec(
            id,
            "i=0; while [ $i -lt 300 ]; do sleep 3 </dev/null >/dev/null 2>&1 & i=$((i+1));"
                + " echo $i > /tmp/forks; done");
    if (!hasBehavior(Behavior.PIDS_LIMIT_FAILS_ONLY_THE_FORK)) {
      awaitNotRunning(id);
      assertThat(netns.httpStatus(ENVD_PORT, "/health")).isNotEqualTo(204);
      runtime.remove(id);
      assertThat(leftovers(id)).isEmpty();
      return;
    }
    String forks = awaitExec(id, "cat /tmp/forks").stdout().strip();

    assertThat(bomb.exitCode()).as("the shell could not fork: %s", bomb).isNotZero();
    assertThat(bomb.stderr()).contains("can't fork");
    assertThat(Integer.parseInt(forks)).isPositive().isLessThan(100);
    assertThat(netns.httpStatus(ENVD_PORT, "/health")).isEqualTo(204);
  }

  /** Runs the script until it succeeds (e.g. once tasks can be started again). */
  ExecResult awaitExec(String sandboxId, String script) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    ExecResult result = exec(sandboxId, script);
    while (result.exitCode() != 0 && System.nanoTime() < deadline) {
      Thread.sleep(100);
      result = exec(sandboxId, script);
    }
    assertThat(result.exitCode()).as("%s: %s", script, result).isZero();
    return result;
  }

  @Test
  void removeLeavesNothingAndIsIdempotent() throws Exception {
    String id = newSandboxId();
    runtime.create(spec(id));
    awaitHealthy();
    exec(id, "echo data > /root/file");

    runtime.remove(id);

    assertThat(leftovers(id)).isEmpty();
    assertThat(runtime.find(id)).isEmpty();
    assertThat(runtime.list()).extracting(RuntimeSandbox::sandboxId).doesNotContain(id);
    runtime.remove(id);
    runtime.remove("never-created");
    assertThat(netns.httpStatus(ENVD_PORT, "/health")).isEqualTo(-1);
  }

  @Test
  void aSecondSandboxWithTheSameIdIsRefusedAndTheFirstKeepsRunning() throws Exception {
    String id = newSandboxId();
    runtime.create(spec(id));

    assertThatThrownBy(() -> runtime.create(spec(id)))
        .isInstanceOf(SandboxRuntimeException.class)
        .hasMessageContaining("already exists");
    awaitHealthy();
    assertThat(runtime.find(id).orElseThrow().state()).isEqualTo(SandboxState.RUNNING);
  }

  @Test
  void aFailedCreateLeavesNothing() throws IOException {
    String id = newSandboxId();
    Path missingTemplate = workDir.resolve("no-such-template");

    assertThatThrownBy(
            () ->
                runtime.create(
                    SandboxSpec.of(id, missingTemplate, envdDist())
                        .withNetworkNamespace(netns.path())))
        .isInstanceOf(RuntimeException.class)
        .hasMessageContaining("no-such-template");
    assertThat(leftovers(id)).isEmpty();
    assertThat(runtime.find(id)).isEmpty();
  }
}
