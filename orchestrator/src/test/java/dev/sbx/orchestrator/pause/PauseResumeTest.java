package dev.sbx.orchestrator.pause;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sbx.orchestrator.Orchestrator;
import dev.sbx.orchestrator.OrchestratorConfig;
import dev.sbx.orchestrator.fixture.TestTemplate;
import dev.sbx.orchestrator.lifecycle.LifecycleSettings;
import dev.sbx.orchestrator.network.Ipv4Cidr;
import dev.sbx.orchestrator.network.NetworkConfig;
import dev.sbx.orchestrator.network.NetworkSlotPool;
import dev.sbx.orchestrator.rootfs.DirectoryTree;
import dev.sbx.orchestrator.runtime.ExecResult;
import dev.sbx.orchestrator.runtime.RuncRuntime;
import dev.sbx.orchestrator.runtime.RuncSettings;
import dev.sbx.orchestrator.runtime.RunscRuntime;
import dev.sbx.orchestrator.runtime.RunscSettings;
import dev.sbx.orchestrator.runtime.SandboxRuntime;
import dev.sbx.proto.orchestrator.CreateSandboxRequest;
import dev.sbx.proto.orchestrator.CreateSnapshotRequest;
import dev.sbx.proto.orchestrator.DeletePausedRequest;
import dev.sbx.proto.orchestrator.DeleteSandboxRequest;
import dev.sbx.proto.orchestrator.ForkSandboxRequest;
import dev.sbx.proto.orchestrator.ForkSandboxResponse;
import dev.sbx.proto.orchestrator.ListPausedRequest;
import dev.sbx.proto.orchestrator.NodeInfo;
import dev.sbx.proto.orchestrator.NodeInfoRequest;
import dev.sbx.proto.orchestrator.NodeServiceGrpc;
import dev.sbx.proto.orchestrator.PauseSandboxRequest;
import dev.sbx.proto.orchestrator.PausedSandbox;
import dev.sbx.proto.orchestrator.ResumeSandboxRequest;
import dev.sbx.proto.orchestrator.Sandbox;
import dev.sbx.proto.orchestrator.SandboxServiceGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.InetAddress;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Pause and resume, snapshots and fork through the gRPC API of a real orchestrator (root; runc with
 * CRIU from {@code /opt/sbx-criu}, and runsc). Layout {@code sbxq}: containers {@code sbxq-…},
 * cgroups below {@code /sbxq}, bridge {@code sbxq0}, addresses 10.235.0.0/24, everything else in a
 * temporary directory; all of it removed after each test, also on failure.
 *
 * <p>The memory test: a shell loop in the sandbox counts into {@code /tmp/count} every 100 ms; its
 * counter lives only in the shell's memory. After a resume the file must keep growing from where it
 * was: a cold boot would not run the loop at all, a restart would count from 1.
 */
class PauseResumeTest {
  static final NetworkConfig NETWORK =
      new NetworkConfig("sbxq", "sbxq0", Ipv4Cidr.parse("10.235.0.0/24"), 0);

  /** Five addresses (a /29 less network, bridge and broadcast). */
  static final NetworkConfig SMALL_NETWORK =
      new NetworkConfig("sbxqs", "sbxqs0", Ipv4Cidr.parse("10.235.1.0/29"), 0);

  private static final String COUNTER =
      "(i=0; while true; do i=$((i+1)); echo $i > /tmp/count.new; mv /tmp/count.new /tmp/count;"
          + " sleep 0.1; done)"
          + " </dev/null >/dev/null 2>&1 &";

  /**
   * Writes to a file it holds open (not in append mode), every millisecond: CRIU records the size
   * of such a file and refuses a restore where it differs, so a snapshot must copy the files in the
   * state of its memory image (a copy taken after the dump, the sandbox running, has a longer
   * file).
   */
  private static final String WRITER =
      " (while true; do echo x; usleep 1000; done) </dev/null >/tmp/written 2>/dev/null &";

  private Path workDir;
  private final Set<Orchestrator> open = new HashSet<>();

  @BeforeEach
  void setUp() throws Exception {
    assertThat(Files.getAttribute(Path.of("/proc/self"), "unix:uid")).isEqualTo(0);
    workDir = Files.createTempDirectory("sbxq-pause-");
    TestTemplate.install(workDir.resolve("templates"), "busybox");
  }

  @AfterEach
  void tearDown() throws Exception {
    for (Orchestrator orchestrator : open) {
      try {
        orchestrator.close();
      } catch (RuntimeException e) {
        e.printStackTrace();
      }
    }
    for (SandboxRuntime runtime :
        List.<SandboxRuntime>of(new RuncRuntime(runc(), null), new RunscRuntime(runsc()))) {
      try {
        runtime.list().forEach(s -> runtime.remove(s.sandboxId()));
      } catch (RuntimeException e) {
        e.printStackTrace();
      }
    }
    NetworkSlotPool.removeAll(NETWORK);
    NetworkSlotPool.removeAll(SMALL_NETWORK);
    try (DirectoryStream<Path> hierarchies = Files.newDirectoryStream(Path.of("/sys/fs/cgroup"))) {
      for (Path hierarchy : hierarchies) {
        Path parent = hierarchy.resolve("sbxq");
        if (Files.isDirectory(parent)) {
          try (DirectoryStream<Path> children = Files.newDirectoryStream(parent)) {
            for (Path child : children) {
              if (Files.isDirectory(child)) {
                Files.deleteIfExists(child);
              }
            }
          }
          Files.deleteIfExists(parent);
        }
      }
    }
    DirectoryTree.delete(workDir);
  }

  private RuncSettings runc() {
    return new RuncSettings(
        Path.of("runc"),
        workDir.resolve("runc-state"),
        workDir.resolve("sandboxes"),
        "sbxq-",
        "sbxq");
  }

  private RunscSettings runsc() {
    return new RunscSettings(
        Path.of("runsc"),
        workDir.resolve("runsc-state"),
        workDir.resolve("sandboxes"),
        "sbxq-",
        "sbxq",
        "systrap");
  }

  private OrchestratorConfig config(boolean gvisor, long quotaBytes) {
    return config(gvisor, quotaBytes, SavedStateSettings.DEFAULT.frozenLimit());
  }

  private OrchestratorConfig config(boolean gvisor, long quotaBytes, int frozenLimit) {
    return config(gvisor, quotaBytes, frozenLimit, NETWORK);
  }

  private OrchestratorConfig config(
      boolean gvisor, long quotaBytes, int frozenLimit, NetworkConfig network) {
    OrchestratorConfig config =
        new OrchestratorConfig(
                InetAddress.getLoopbackAddress(),
                0,
                workDir.resolve("templates"),
                runc(),
                network,
                new LifecycleSettings(
                    TestTemplate.envdDist(),
                    6,
                    Duration.ofSeconds(90),
                    Duration.ofMillis(200),
                    List.of()))
            .withNodeProxy("127.0.0.1", 0)
            .withSavedState(
                SavedStateSettings.DEFAULT
                    .withDir(workDir.resolve("saved"))
                    .withQuotaBytes(quotaBytes)
                    .withFrozen(frozenLimit, SavedStateSettings.DEFAULT.frozenFor()));
    return gvisor ? config.withRunsc(runsc()) : config;
  }

  private Orchestrator start(OrchestratorConfig config) {
    Orchestrator orchestrator = Orchestrator.start(config);
    open.add(orchestrator);
    return orchestrator;
  }

  private void stop(Orchestrator orchestrator) {
    open.remove(orchestrator);
    orchestrator.close();
  }

  /** Runs {@code body} with blocking stubs on the orchestrator. */
  private static void withStubs(
      Orchestrator orchestrator,
      Consumer<SandboxServiceGrpc.SandboxServiceBlockingStub> sandboxes,
      Consumer<NodeServiceGrpc.NodeServiceBlockingStub> node)
      throws InterruptedException {
    ManagedChannel channel =
        Grpc.newChannelBuilderForAddress(
                "127.0.0.1", orchestrator.port(), InsecureChannelCredentials.create())
            .build();
    try {
      sandboxes.accept(
          SandboxServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.MINUTES));
      node.accept(NodeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(1, TimeUnit.MINUTES));
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static String sh(Orchestrator orchestrator, String id, String script) {
    ExecResult result =
        orchestrator
            .lifecycle()
            .runtime()
            .exec(
                orchestrator.lifecycle().get(id).orElseThrow().containerId(),
                List.of("/bin/sh", "-c", script),
                Duration.ofSeconds(30));
    assertThat(result.exitCode()).as(result.toString()).isZero();
    return result.stdout().strip();
  }

  private static int count(Orchestrator orchestrator, String id) {
    String text = sh(orchestrator, id, "cat /tmp/count");
    return Integer.parseInt(text);
  }

  private static long size(Orchestrator orchestrator, String id, String file) {
    return Long.parseLong(sh(orchestrator, id, "stat -c %s " + file));
  }

  private static Sandbox create(
      SandboxServiceGrpc.SandboxServiceBlockingStub sandboxes, String id) {
    return sandboxes.create(
        CreateSandboxRequest.newBuilder()
            .setSandboxId(id)
            .setTemplateId("busybox")
            .setEnvdAccessToken("token-" + id)
            .putEnvVars("PAUSE_TEST", "yes")
            .build());
  }

  private static PausedSandbox pause(
      SandboxServiceGrpc.SandboxServiceBlockingStub sandboxes, String id, boolean memory) {
    return sandboxes.pause(
        PauseSandboxRequest.newBuilder().setSandboxId(id).setMemory(memory).build());
  }

  private static Sandbox resume(
      SandboxServiceGrpc.SandboxServiceBlockingStub sandboxes, String id) {
    return sandboxes.resume(ResumeSandboxRequest.newBuilder().setSandboxId(id).build());
  }

  /** Counts, pauses with memory, resumes: the counter goes on from where it was. */
  private void memoryKept(boolean gvisor) throws Exception {
    memoryKept(gvisor, COUNTER, "0", false);
  }

  /**
   * {@link #memoryKept(boolean)} with the counter started by {@code counter}, running as the uid
   * {@code owner} (it owns each new {@code /tmp/count}, also after the resume); with {@code frozen}
   * the sandbox waits frozen while paused and the resume thaws it (same address), else the resume
   * restores the checkpoint.
   */
  private void memoryKept(boolean gvisor, String counter, String owner, boolean frozen)
      throws Exception {
    Orchestrator orchestrator = start(config(gvisor, 0, frozen ? 1 : 0));
    String id = "q" + (gvisor ? "g" : "c") + ProcessHandle.current().pid();
    withStubs(
        orchestrator,
        sandboxes -> {
          String address = create(sandboxes, id).getAddress();
          sh(orchestrator, id, "echo kept > /home-file; " + counter);
          await(() -> count(orchestrator, id) > 3);
          PausedSandbox paused = pause(sandboxes, id, true);
          assertThat(orchestrator.lifecycle().frozenIds())
              .isEqualTo(frozen ? List.of(id) : List.of());
          assertThat(paused.getMemoryKept()).isTrue();
          assertThat(paused.getSizeBytes()).isPositive();
          assertThat(orchestrator.lifecycle().get(id)).isEmpty();
          Path saved = workDir.resolve("saved/paused").resolve(id);
          assertThat(saved.resolve("image")).isDirectory();
          assertThat(saved.resolve("upper/home-file")).hasContent("kept");
          int before = Integer.parseInt(readString(saved.resolve("upper/tmp/count")).strip());
          // pausing again: FAILED_PRECONDITION
          assertThatThrownBy(() -> pause(sandboxes, id, true))
              .isInstanceOfSatisfying(
                  StatusRuntimeException.class,
                  e ->
                      assertThat(e.getStatus().getCode())
                          .isEqualTo(Status.Code.FAILED_PRECONDITION));
          Sandbox resumed = resume(sandboxes, id);
          assertThat(resumed.getSandboxId()).isEqualTo(id);
          assertThat(orchestrator.lifecycle().frozenIds()).isEmpty();
          if (frozen) {
            assertThat(resumed.getAddress()).isEqualTo(address);
          }
          assertThat(saved).doesNotExist();
          int after = count(orchestrator, id);
          assertThat(after).isGreaterThanOrEqualTo(before);
          await(() -> count(orchestrator, id) > after + 3);
          assertThat(sh(orchestrator, id, "stat -c %u /tmp/count")).isEqualTo(owner);
          assertThat(sh(orchestrator, id, "cat /home-file")).isEqualTo("kept");
          assertThat(sh(orchestrator, id, "hostname")).isEqualTo(id);
          // resuming what is no longer paused: NOT_FOUND
          assertThatThrownBy(() -> resume(sandboxes, id))
              .isInstanceOfSatisfying(
                  StatusRuntimeException.class,
                  e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
        },
        node -> {});
  }

  @Test
  void runcPauseWithMemoryKeepsTheCounterGoing() throws Exception {
    assertThat(new RuncRuntime(runc()).canCheckpoint())
        .as("CRIU 4.2+ at /opt/sbx-criu/criu (scripts/install-deps.sh orchestrator)")
        .isTrue();
    memoryKept(false, COUNTER, "0", true);
  }

  /**
   * The counter runs as the template's default user (uid 1000), as an SDK user's commands do: CRIU
   * reads and restores the rlimits of a process of another user, which the kernel allows only with
   * CAP_SYS_RESOURCE (that hosts in containers often lack).
   */
  @Test
  void runcPauseWithMemoryKeepsTheDefaultUsersCounterGoing() throws Exception {
    assertThat(new RuncRuntime(runc()).canCheckpoint()).isTrue();
    memoryKept(false, "su -s /bin/sh user -c '" + COUNTER + "'", "1000", false);
  }

  /**
   * runsc: a memory pause only with {@code -Dsbx.runsc.checkpoint=true} (its restore stalls on this
   * kind of host, see {@code RunscRuntime#canCheckpoint}); by default a pause asked with memory
   * keeps the files only and says so, and the resume boots cold on them.
   */
  @Test
  void runscPauseKeepsMemoryOnlyWhenEnabledElseSaysFilesOnly() throws Exception {
    if (Boolean.getBoolean("sbx.runsc.checkpoint")) {
      memoryKept(true);
      return;
    }
    Orchestrator orchestrator = start(config(true, 0));
    String id = "qr" + ProcessHandle.current().pid();
    withStubs(
        orchestrator,
        sandboxes -> {
          create(sandboxes, id);
          sh(orchestrator, id, "echo kept > /home-file");
          PausedSandbox paused = pause(sandboxes, id, true);
          assertThat(paused.getMemoryKept()).isFalse();
          Path saved = workDir.resolve("saved/paused").resolve(id);
          assertThat(saved.resolve("image")).doesNotExist();
          assertThat(saved.resolve("upper/home-file")).hasContent("kept");
          assertThat(orchestrator.lifecycle().get(id)).isEmpty();
          resume(sandboxes, id);
          assertThat(saved).doesNotExist();
          assertThat(sh(orchestrator, id, "cat /home-file")).isEqualTo("kept");
          assertThat(sh(orchestrator, id, "hostname")).isEqualTo(id);
        },
        node -> {});
  }

  @Test
  void filesOnlyPauseSurvivesARestartAndBootsColdOnResume() throws Exception {
    Orchestrator first = start(config(false, 0));
    String id = "qf" + ProcessHandle.current().pid();
    withStubs(
        first,
        sandboxes -> {
          create(sandboxes, id);
          sh(first, id, "echo kept > /home-file; " + COUNTER);
          await(() -> count(first, id) > 1);
          PausedSandbox paused = pause(sandboxes, id, false);
          assertThat(paused.getMemoryKept()).isFalse();
          assertThat(workDir.resolve("saved/paused").resolve(id).resolve("image")).doesNotExist();
        },
        node -> {});
    stop(first);
    // a half-written save (no record) next to it: removed at the next start, never resumed
    Path half = workDir.resolve("saved/paused/qhalf");
    Files.createDirectories(half.resolve("upper"));
    Files.createDirectories(half.resolve("image"));
    Files.writeString(half.resolve("image/pages-1.img"), "cut short");
    Orchestrator second = start(config(false, 0));
    assertThat(half).doesNotExist();
    withStubs(
        second,
        sandboxes -> {
          assertThat(
                  sandboxes.listPaused(ListPausedRequest.getDefaultInstance()).getSandboxesList())
              .extracting(PausedSandbox::getSandboxId)
              .containsExactly(id);
          resume(sandboxes, id);
          assertThat(sh(second, id, "cat /home-file")).isEqualTo("kept");
          // cold boot: no counter runs, the file keeps the last count
          int count = count(second, id);
          sleep(500);
          assertThat(count(second, id)).isEqualTo(count);
          assertThat(sh(second, id, "ps | grep -c '[s]leep 0.1' || true")).isEqualTo("0");
        },
        node -> {});
  }

  /**
   * With room for one frozen sandbox, a second pause drops the first one's container (its saved
   * state remains and its resume restores it) and a kill of the frozen one removes its container.
   */
  @Test
  void frozenLimitDropsTheOldestWhichResumesFromItsSavedState() throws Exception {
    Orchestrator orchestrator = start(config(false, 0, 1));
    String first = "qf" + ProcessHandle.current().pid();
    String second = first + "b";
    String third = first + "c";
    SandboxRuntime runtime = orchestrator.lifecycle().runtime();
    withStubs(
        orchestrator,
        sandboxes -> {
          for (String id : List.of(first, second, third)) {
            create(sandboxes, id);
            sh(orchestrator, id, COUNTER);
          }
          await(() -> count(orchestrator, first) > 3);
          pause(sandboxes, first, true);
          assertThat(orchestrator.lifecycle().frozenIds()).containsExactly(first);
          assertThat(runtime.find(first)).isPresent();
          pause(sandboxes, second, true);
          assertThat(orchestrator.lifecycle().frozenIds()).containsExactly(second);
          assertThat(runtime.find(first)).isEmpty();
          int before = Integer.parseInt(readSaved(first, "upper/tmp/count"));
          resume(sandboxes, first);
          assertThat(count(orchestrator, first)).isGreaterThanOrEqualTo(before);
          await(() -> count(orchestrator, first) > before + 3);
          pause(sandboxes, third, true);
          assertThat(orchestrator.lifecycle().frozenIds()).containsExactly(third);
          sandboxes.deletePaused(DeletePausedRequest.newBuilder().setSandboxId(third).build());
          assertThat(orchestrator.lifecycle().frozenIds()).isEmpty();
          assertThat(runtime.find(third)).isEmpty();
          assertThat(workDir.resolve("saved/paused").resolve(third)).doesNotExist();
          assertThat(runtime.find(second)).isEmpty();
          resume(sandboxes, second);
          int resumed = count(orchestrator, second);
          await(() -> count(orchestrator, second) > resumed);
        },
        node -> {});
  }

  /**
   * A frozen sandbox holds its address: with all five addresses of the layout taken by four running
   * sandboxes and a frozen one, a fifth create drops the frozen one's container and gets its
   * address; the paused sandbox then resumes from its saved state.
   */
  @Test
  void aCreateThatNeedsTheAddressDropsAFrozenSandbox() throws Exception {
    Orchestrator orchestrator = start(config(false, 0, 1, SMALL_NETWORK));
    String prefix = "qa" + ProcessHandle.current().pid();
    SandboxRuntime runtime = orchestrator.lifecycle().runtime();
    withStubs(
        orchestrator,
        sandboxes -> {
          for (int n = 0; n < 5; n++) {
            create(sandboxes, prefix + n);
          }
          String paused = prefix + 0;
          sh(orchestrator, paused, COUNTER);
          await(() -> count(orchestrator, paused) > 3);
          pause(sandboxes, paused, true);
          assertThat(orchestrator.lifecycle().frozenIds()).containsExactly(paused);
          sandboxes.delete(DeleteSandboxRequest.newBuilder().setSandboxId(prefix + 1).build());
          create(sandboxes, prefix + 5);
          assertThat(orchestrator.lifecycle().frozenIds()).containsExactly(paused);
          // all five addresses in use (four running, one frozen): the next create takes the
          // frozen one's
          create(sandboxes, prefix + 6);
          assertThat(orchestrator.lifecycle().frozenIds()).isEmpty();
          assertThat(runtime.find(paused)).isEmpty();
          sandboxes.delete(DeleteSandboxRequest.newBuilder().setSandboxId(prefix + 6).build());
          int before = Integer.parseInt(readSaved(paused, "upper/tmp/count"));
          resume(sandboxes, paused);
          await(() -> count(orchestrator, paused) > before + 3);
        },
        node -> {});
  }

  private String readSaved(String id, String file) {
    return readString(workDir.resolve("saved/paused").resolve(id).resolve(file)).strip();
  }

  @Test
  void quotaDeletePausedAndNodeInfo() throws Exception {
    Orchestrator orchestrator = start(config(false, 1));
    String id = "qq" + ProcessHandle.current().pid();
    withStubs(
        orchestrator,
        sandboxes -> {
          create(sandboxes, id);
          sh(orchestrator, id, "echo data > /home-file");
          assertThatThrownBy(() -> pause(sandboxes, id, false))
              .isInstanceOfSatisfying(
                  StatusRuntimeException.class,
                  e ->
                      assertThat(e.getStatus().getCode())
                          .isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
          // the sandbox keeps running
          assertThat(sh(orchestrator, id, "cat /home-file")).isEqualTo("data");
          assertThat(workDir.resolve("saved/paused").resolve(id)).doesNotExist();
        },
        node -> {
          NodeInfo info = node.info(NodeInfoRequest.getDefaultInstance());
          assertThat(info.getSavedStateQuotaBytes()).isEqualTo(1);
          assertThat(info.getPausedSandboxes()).isZero();
        });
    stop(orchestrator);
    Orchestrator unlimited = start(config(false, 0));
    withStubs(
        unlimited,
        sandboxes -> {
          create(sandboxes, id);
          sh(unlimited, id, "echo data > /home-file");
          pause(sandboxes, id, false);
        },
        node -> {
          NodeInfo info = node.info(NodeInfoRequest.getDefaultInstance());
          assertThat(info.getPausedSandboxes()).isEqualTo(1);
          assertThat(info.getSavedStateBytes()).isPositive();
        });
    withStubs(
        unlimited,
        sandboxes -> {
          sandboxes.deletePaused(DeletePausedRequest.newBuilder().setSandboxId(id).build());
          assertThat(workDir.resolve("saved/paused").resolve(id)).doesNotExist();
          assertThatThrownBy(
                  () ->
                      sandboxes.deletePaused(
                          DeletePausedRequest.newBuilder().setSandboxId(id).build()))
              .isInstanceOfSatisfying(
                  StatusRuntimeException.class,
                  e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
          assertThatThrownBy(() -> pause(sandboxes, "qnone", true))
              .isInstanceOfSatisfying(
                  StatusRuntimeException.class,
                  e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
        },
        node ->
            assertThat(node.info(NodeInfoRequest.getDefaultInstance()).getSavedStateBytes())
                .isZero());
  }

  @Test
  void snapshotThenCreateFromItAndForkThree() throws Exception {
    Orchestrator orchestrator = start(config(false, 0));
    String id = "qs" + ProcessHandle.current().pid();
    withStubs(
        orchestrator,
        sandboxes -> {
          create(sandboxes, id);
          sh(orchestrator, id, "echo parent > /home-file; " + COUNTER + WRITER);
          await(() -> count(orchestrator, id) > 3);
          var snapshot =
              sandboxes.createSnapshot(
                  CreateSnapshotRequest.newBuilder()
                      .setSandboxId(id)
                      .setSnapshotId("team/snap:1")
                      .build());
          assertThat(snapshot.getMemoryKept()).isTrue();
          // the parent runs on
          int parent = count(orchestrator, id);
          await(() -> count(orchestrator, id) > parent);
          Sandbox child =
              sandboxes.create(
                  CreateSandboxRequest.newBuilder()
                      .setSandboxId(id + "s")
                      .setSnapshotId("team/snap:1")
                      .setEnvdAccessToken("child-token")
                      .build());
          assertThat(child.getTemplateId()).isEqualTo("busybox");
          assertThat(sh(orchestrator, id + "s", "cat /home-file")).isEqualTo("parent");
          assertThat(sh(orchestrator, id + "s", "hostname")).isEqualTo(id + "s");
          int childCount = count(orchestrator, id + "s");
          await(() -> count(orchestrator, id + "s") > childCount);
          long written = size(orchestrator, id + "s", "/tmp/written");
          await(() -> size(orchestrator, id + "s", "/tmp/written") > written);
          ForkSandboxResponse forked =
              sandboxes.fork(
                  ForkSandboxRequest.newBuilder()
                      .setSandboxId(id)
                      .addChildren(CreateSandboxRequest.newBuilder().setSandboxId(id + "f1"))
                      .addChildren(CreateSandboxRequest.newBuilder().setSandboxId(id + "f2"))
                      .addChildren(CreateSandboxRequest.newBuilder().setSandboxId(id + "f3"))
                      .build());
          assertThat(forked.getResultsList()).hasSize(3);
          Set<String> addresses = new HashSet<>();
          for (int n = 1; n <= 3; n++) {
            var result = forked.getResults(n - 1);
            assertThat(result.hasSandbox()).as(result.getErrorMessage()).isTrue();
            String forkId = id + "f" + n;
            addresses.add(result.getSandbox().getAddress());
            assertThat(sh(orchestrator, forkId, "hostname")).isEqualTo(forkId);
            assertThat(sh(orchestrator, forkId, "cat /home-file")).isEqualTo("parent");
            int forkCount = count(orchestrator, forkId);
            await(() -> count(orchestrator, forkId) > forkCount);
          }
          assertThat(addresses).hasSize(3);
          // independent: a file written in one fork is not in another
          sh(orchestrator, id + "f1", "echo one > /only-f1");
          assertThat(sh(orchestrator, id + "f2", "test -e /only-f1 && echo yes || echo no"))
              .isEqualTo("no");
        },
        node ->
            assertThat(node.info(NodeInfoRequest.getDefaultInstance()).getSnapshots())
                .isEqualTo(1));
  }

  private static String readString(Path file) {
    try {
      return Files.readString(file);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Waits up to 20 s for {@code condition}. */
  private static void await(java.util.function.BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("condition not met within 20 s");
      }
      sleep(100);
    }
  }
}
