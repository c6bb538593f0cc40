package dev.sbx.orchestrator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Timestamp;
import dev.sbx.connect.ConnectClient;
import dev.sbx.orchestrator.fixture.TestTemplate;
import dev.sbx.orchestrator.network.NetworkSlotPool;
import dev.sbx.orchestrator.rootfs.DirectoryTree;
import dev.sbx.orchestrator.runtime.RuncRuntime;
import dev.sbx.orchestrator.runtime.RuntimeSandbox;
import dev.sbx.proto.orchestrator.CreateSandboxRequest;
import dev.sbx.proto.orchestrator.DeleteSandboxRequest;
import dev.sbx.proto.orchestrator.EgressPolicy;
import dev.sbx.proto.orchestrator.GetSandboxRequest;
import dev.sbx.proto.orchestrator.ListSandboxesRequest;
import dev.sbx.proto.orchestrator.NodeServiceGrpc;
import dev.sbx.proto.orchestrator.Sandbox;
import dev.sbx.proto.orchestrator.SandboxServiceGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Crash recovery for real: the orchestrator runs in a JVM of its own ({@link OrchestratorProcess},
 * layout {@code sbxk}), is killed with SIGKILL, and a new one on the same layout and directories
 * adopts what still runs and removes what was half-made. Every test ends with a clean stop and
 * {@link LeakInventory} finding nothing.
 */
class CrashRecoveryTest {
  static final Duration WITHIN = Duration.ofSeconds(60);
  static final AtomicInteger IDS = new AtomicInteger();

  Path workDir;
  final List<Node> nodes = new ArrayList<>();

  /** One orchestrator JVM and a gRPC channel to it. */
  record Node(Process process, int grpcPort, int proxyPort, ManagedChannel channel, Path log) {
    String logText() throws java.io.IOException {
      return Files.readString(log);
    }

    SandboxServiceGrpc.SandboxServiceBlockingStub sandboxes() {
      return SandboxServiceGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.MINUTES);
    }

    NodeServiceGrpc.NodeServiceBlockingStub node() {
      return NodeServiceGrpc.newBlockingStub(channel);
    }

    void kill() throws InterruptedException {
      channel.shutdownNow();
      process.destroyForcibly(); // SIGKILL
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    /** A clean stop: closes its stdin and waits. */
    void stop() throws Exception {
      channel.shutdownNow();
      process.getOutputStream().close();
      if (!process.waitFor(2, TimeUnit.MINUTES)) {
        process.destroyForcibly();
        throw new AssertionError("the orchestrator did not stop");
      }
      assertThat(process.exitValue()).as("exit code of a clean stop").isZero();
    }
  }

  @BeforeEach
  void prepare() throws Exception {
    assertThat(Files.getAttribute(Path.of("/proc/self"), "unix:uid"))
        .as("crash recovery tests need root")
        .isEqualTo(0);
    workDir = Files.createTempDirectory("sbxk-crash-");
    TestTemplate.install(workDir.resolve("templates"), "busybox");
  }

  /**
   * Stops every orchestrator (a clean stop; SIGKILL if that fails), checks the inventory, then
   * removes whatever a failed test left: every step runs even when an earlier one failed, and the
   * first failure is thrown at the end with the others attached.
   */
  @AfterEach
  void cleanUp() throws Exception {
    List<String> left = new ArrayList<>();
    List<Throwable> failures = new ArrayList<>();
    for (Node node : nodes) {
      if (node.process().isAlive()) {
        step(failures, node::stop);
      }
    }
    for (Node node : nodes) {
      if (node.process().isAlive()) {
        step(
            failures,
            () -> {
              node.process().destroyForcibly();
              node.process().waitFor(30, TimeUnit.SECONDS);
            });
      }
      step(failures, () -> System.err.println("---- " + node.log() + "\n" + node.logText()));
    }
    if (workDir == null) {
      rethrow(failures);
      return;
    }
    OrchestratorConfig config = OrchestratorProcess.config(workDir, false);
    step(failures, () -> left.addAll(LeakInventory.find(config, null)));
    // whatever a failed test left: containers (with their mounts, cgroups and directories), the
    // network, the cgroup parent, the work directory
    RuncRuntime runtime = new RuncRuntime(config.runc());
    List<RuntimeSandbox> containers = new ArrayList<>();
    step(failures, () -> containers.addAll(runtime.list()));
    for (RuntimeSandbox container : containers) {
      step(failures, () -> runtime.remove(container.sandboxId()));
    }
    step(failures, () -> NetworkSlotPool.removeAll(OrchestratorProcess.NETWORK));
    step(
        failures,
        () -> {
          try (DirectoryStream<Path> hierarchies =
              Files.newDirectoryStream(Path.of("/sys/fs/cgroup"))) {
            for (Path hierarchy : hierarchies) {
              step(failures, () -> Files.deleteIfExists(hierarchy.resolve("sbxk")));
            }
          }
        });
    step(failures, () -> DirectoryTree.delete(workDir));
    rethrow(failures);
    assertThat(left).as("leaks after the last orchestrator stopped").isEmpty();
  }

  /** A clean-up step that may throw. */
  interface Step {
    void run() throws Exception;
  }

  static void step(List<Throwable> failures, Step step) {
    try {
      step.run();
    } catch (Exception | AssertionError e) {
      failures.add(e);
    }
  }

  static void rethrow(List<Throwable> failures) throws Exception {
    if (failures.isEmpty()) {
      return;
    }
    AssertionError first = new AssertionError("clean-up failed", failures.getFirst());
    failures.stream().skip(1).forEach(first::addSuppressed);
    throw first;
  }

  Node start(boolean keep) throws Exception {
    return start(keep, Duration.ofMillis(100));
  }

  /** Starts an orchestrator JVM; its log goes to {@code orchestrator-<n>.log} in the work dir. */
  Node start(boolean keep, Duration reaperInterval) throws Exception {
    Path log = workDir.resolve("orchestrator-" + nodes.size() + ".log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process process =
        new ProcessBuilder(
                java,
                "--enable-native-access=ALL-UNNAMED",
                "-Denvd.dist=" + TestTemplate.envdDist(),
                "-cp",
                System.getProperty("java.class.path"),
                OrchestratorProcess.class.getName(),
                workDir.toString(),
                keep ? "keep" : "delete",
                Long.toString(reaperInterval.toMillis()))
            .redirectError(log.toFile())
            .start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<String> ports =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                String line;
                while ((line = out.readLine()) != null) {
                  if (line.startsWith("ports ")) {
                    return line;
                  }
                }
                return "exited";
              } catch (java.io.IOException e) {
                return "exited: " + e;
              }
            });
    String line;
    try {
      line = ports.get(2, TimeUnit.MINUTES);
      assertThat(line).as("the orchestrator's first line").startsWith("ports ");
    } catch (Exception | AssertionError e) {
      // never left running: its sandboxes and network are removed by cleanUp
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
      System.err.println("---- " + log + "\n" + Files.readString(log));
      throw e;
    }
    String[] parts = line.split(" ");
    int grpc = Integer.parseInt(parts[1]);
    ManagedChannel channel =
        Grpc.newChannelBuilderForAddress("127.0.0.1", grpc, InsecureChannelCredentials.create())
            .build();
    Node node = new Node(process, grpc, Integer.parseInt(parts[2]), channel, log);
    nodes.add(node);
    return node;
  }

  static String newSandboxId() {
    return "r" + ProcessHandle.current().pid() + "x" + IDS.incrementAndGet();
  }

  static String runThroughProxy(
      Node node, String sandboxId, @Nullable String token, String script) {
    ConnectClient.Builder builder =
        ConnectClient.builder(URI.create("http://127.0.0.1:" + node.proxyPort()))
            .header("E2b-Sandbox-Id", sandboxId)
            .header("E2b-Sandbox-Port", "49983")
            .timeout(WITHIN);
    if (token != null) {
      builder.header("X-Access-Token", token);
    }
    try (ConnectClient envd = builder.build()) {
      return OrchestratorTest.run(envd, script);
    }
  }

  @Test
  void aNewOrchestratorAdoptsTheSandboxesOfAKilledOne() throws Exception {
    // the first one never reaps: the end time passes while it runs or while none runs
    Node first = start(false, Duration.ofHours(1));
    String id = newSandboxId();
    String shortLived = newSandboxId();
    Instant soon = Instant.now().plusSeconds(3);
    Sandbox sandbox =
        first
            .sandboxes()
            .create(
                CreateSandboxRequest.newBuilder()
                    .setSandboxId(id)
                    .setTemplateId("busybox")
                    .setMemoryMb(256)
                    .putMetadata("owner", "crash-test")
                    .setEnvdAccessToken("token-r")
                    .setEndTime(
                        Timestamp.newBuilder().setSeconds(Instant.now().getEpochSecond() + 3600))
                    .setEgress(EgressPolicy.newBuilder().addAllowedCidrs("192.0.2.0/24"))
                    .build());
    Sandbox expiring =
        first
            .sandboxes()
            .create(
                CreateSandboxRequest.newBuilder()
                    .setSandboxId(shortLived)
                    .setTemplateId("busybox")
                    .setEndTime(
                        Timestamp.newBuilder()
                            .setSeconds(soon.getEpochSecond())
                            .setNanos(soon.getNano()))
                    .build());
    runThroughProxy(first, id, "token-r", "echo before > /tmp/mark");

    first.kill();
    Node second = start(false);

    // adopted: the same record, envd with its files and token through the new node proxy
    assertThat(second.sandboxes().get(GetSandboxRequest.newBuilder().setSandboxId(id).build()))
        .isEqualTo(sandbox);
    assertThat(runThroughProxy(second, id, "token-r", "cat /tmp/mark; hostname"))
        .isEqualTo("before\n" + id + "\n");
    // its egress chain is still there
    int slot = OrchestratorTest.slotIndexIn(OrchestratorProcess.NETWORK, sandbox.getAddress());
    assertThat(OrchestratorTest.exitCode("nft", "list", "chain", "inet", "sbxk", "egress_" + slot))
        .isZero();

    // the reaper of the new one applies the end time it adopted
    long deadline = System.nanoTime() + WITHIN.toNanos();
    while (second
        .sandboxes()
        .list(ListSandboxesRequest.getDefaultInstance())
        .getSandboxesList()
        .stream()
        .anyMatch(s -> s.getSandboxId().equals(shortLived))) {
      assertThat(System.nanoTime() - deadline).as("expired sandbox deleted").isNegative();
      Thread.sleep(50);
    }
    assertThat(Instant.now()).isAfterOrEqualTo(soon);
    String log = second.logText();
    assertThat(log).contains("adopted sandbox " + shortLived + " ");
    assertThat(log.indexOf("deleted sandbox " + shortLived + ": its end time passed"))
        .as("deleted by the reaper after its adoption")
        .isGreaterThan(log.indexOf("adopted sandbox " + shortLived + " "));
    assertThat(new RuncRuntime(OrchestratorProcess.config(workDir, false).runc()).find(shortLived))
        .isEmpty();
    assertThat(expiring.getSandboxId()).isEqualTo(shortLived);

    second.sandboxes().delete(DeleteSandboxRequest.newBuilder().setSandboxId(id).build());
    assertThat(
            second.sandboxes().list(ListSandboxesRequest.getDefaultInstance()).getSandboxesCount())
        .isZero();
    second.stop();
  }

  @Test
  void aKillDuringCreateLeavesNothingAfterTheRestart() throws Exception {
    Node first = start(false);
    String id = newSandboxId();
    Path state = workDir.resolve("runc-state").resolve("sbxk-" + id);
    CompletableFuture<Throwable> create =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                first
                    .sandboxes()
                    .create(
                        CreateSandboxRequest.newBuilder()
                            .setSandboxId(id)
                            .setTemplateId("busybox")
                            .build());
                return new AssertionError("the create finished before the kill");
              } catch (StatusRuntimeException e) {
                return e;
              }
            });
    // the container exists (runc made its state) and envd is not up yet: kill now
    long deadline = System.nanoTime() + WITHIN.toNanos();
    while (!Files.exists(state)) {
      assertThat(System.nanoTime() - deadline).as("runc started the container").isNegative();
      assertThat(create).isNotDone();
      Thread.sleep(2);
    }
    first.kill();
    Throwable failure = create.get(1, TimeUnit.MINUTES);
    assertThat(failure).isInstanceOf(StatusRuntimeException.class);
    assertThat(((StatusRuntimeException) failure).getStatus().getCode())
        .isEqualTo(Status.Code.UNAVAILABLE);
    Thread.sleep(300); // a runc run the kill interrupted finishes on its own

    Node second = start(false);

    assertThatThrownBy(
            () -> second.sandboxes().get(GetSandboxRequest.newBuilder().setSandboxId(id).build()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    assertThat(LeakInventory.find(OrchestratorProcess.config(workDir, false), null))
        .as("only the second orchestrator's bridge and tables")
        .containsExactlyInAnyOrder("bridge sbxk0", "nft table inet sbxk", "nft table bridge sbxk");
    second.stop();
  }

  @Test
  void aCleanStopWithKeepLeavesSandboxesForTheNextOne() throws Exception {
    Node first = start(true);
    String id = newSandboxId();
    first
        .sandboxes()
        .create(
            CreateSandboxRequest.newBuilder().setSandboxId(id).setTemplateId("busybox").build());
    first.stop();
    assertThat(new RuncRuntime(OrchestratorProcess.config(workDir, true).runc()).find(id))
        .as("still running after a clean stop with keepSandboxesOnStop")
        .isPresent();

    Node second = start(false);
    assertThat(runThroughProxy(second, id, null, "hostname")).isEqualTo(id + "\n");
    second.stop(); // keepSandboxesOnStop=false: deletes it
    assertThat(new RuncRuntime(OrchestratorProcess.config(workDir, false).runc()).find(id))
        .isEmpty();
  }
}
