package dev.sbx.orchestrator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sbx.connect.ConnectClient;
import dev.sbx.orchestrator.lifecycle.SandboxLifecycle;
import dev.sbx.orchestrator.lifecycle.SandboxNotFoundException;
import dev.sbx.orchestrator.lifecycle.SandboxRecord;
import dev.sbx.orchestrator.lifecycle.WarmPoolSettings;
import dev.sbx.orchestrator.network.Ipv4Cidr;
import dev.sbx.orchestrator.network.NetworkConfig;
import dev.sbx.orchestrator.runtime.RuncRuntime;
import dev.sbx.orchestrator.runtime.RuncSettings;
import dev.sbx.proto.orchestrator.CreateSandboxRequest;
import dev.sbx.proto.orchestrator.DeleteSandboxRequest;
import dev.sbx.proto.orchestrator.NodeInfoRequest;
import dev.sbx.proto.orchestrator.NodeServiceGrpc;
import dev.sbx.proto.orchestrator.Sandbox;
import dev.sbx.proto.orchestrator.SandboxServiceGrpc;
import dev.sbx.proto.process.ListRequest;
import dev.sbx.proto.process.ListResponse;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The warm pool for real (root, runc, nftables, envd's dist): template {@code busybox} keeps one
 * started sandbox, template {@code cold} none. Layout {@code sbxk} / bridge {@code sbxk0} / {@code
 * 10.234.0.0/24}, containers {@code sbxk-…}, cgroups below {@code /sbxk}; only addresses of that
 * bridge are contacted. After the class (the orchestrator closed) nothing may be left.
 */
class WarmPoolTest {
  static final NetworkConfig NETWORK =
      new NetworkConfig("sbxk", "sbxk0", Ipv4Cidr.parse("10.234.0.0/24"), 0);
  static final Duration WITHIN = Duration.ofSeconds(60);
  static final AtomicInteger IDS = new AtomicInteger();

  static RuncTestNode testNode;
  static RuncSettings runc;
  static Orchestrator orchestrator;
  static OrchestratorConfig config;
  static SandboxServiceGrpc.SandboxServiceBlockingStub sandboxes;
  static NodeServiceGrpc.NodeServiceBlockingStub node;

  @BeforeAll
  static void startOrchestrator() throws Exception {
    testNode =
        RuncTestNode.start(
            NETWORK,
            List.of("busybox", "cold"),
            3,
            WITHIN,
            new WarmPoolSettings(0, Map.of("busybox", 1)));
    runc = testNode.runc;
    orchestrator = testNode.orchestrator;
    config = testNode.config;
    sandboxes = testNode.sandboxes;
    node = testNode.node;
  }

  @AfterAll
  static void stopOrchestrator() throws Exception {
    if (testNode != null) {
      assertThat(testNode.stop()).as("left on the host after the orchestrator stopped").isEmpty();
    }
  }

  @AfterEach
  void deleteEverySandbox() {
    SandboxLifecycle lifecycle = orchestrator.lifecycle();
    for (var sandbox : lifecycle.list()) {
      try {
        lifecycle.delete(sandbox.sandboxId());
      } catch (SandboxNotFoundException e) {
        // deleted meanwhile
      }
    }
  }

  static String newSandboxId() {
    return "k" + ProcessHandle.current().pid() + "x" + IDS.incrementAndGet();
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + WITHIN.toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime() - deadline).as("%s within %s", what, WITHIN).isNegative();
      Thread.sleep(20);
    }
  }

  static Set<String> warmContainers() {
    return testNode.warmContainers();
  }

  static int warmWaiting(String template) {
    return testNode.warmWaiting(template);
  }

  @Test
  void createClaimsTheWarmSandboxThenThePoolRefills() throws Exception {
    await("a warm busybox sandbox", () -> warmWaiting("busybox") == 1);
    assertThat(warmWaiting("cold")).isZero();
    Set<String> warm = warmContainers();
    assertThat(warm).hasSize(1);
    String warmId = warm.iterator().next();
    assertThat(node.info(NodeInfoRequest.getDefaultInstance()).getSandboxes())
        .as("a warm sandbox is no sandbox of the node yet")
        .isZero();
    RuncRuntime runtime = new RuncRuntime(runc);
    assertThat(cpuWeight(runtime.cgroupDirs(warmId)))
        .as("a warm sandbox starts and waits with the least CPU weight")
        .isEqualTo(LEAST_CPU_WEIGHT);
    int warmSlot = warmSlotIndex();
    assertThat(egressChain(warmSlot))
        .as("and with internet access, what most creates ask for")
        .doesNotContain("drop");

    String id = newSandboxId();
    Sandbox sandbox =
        sandboxes.create(
            CreateSandboxRequest.newBuilder()
                .setSandboxId(id)
                .setTemplateId("busybox")
                .setCpuCount(1)
                .setMemoryMb(256)
                .putEnvVars("FROM_INIT", "claimed")
                .setEnvdAccessToken("warm-token")
                .setDefaultUser("user")
                .setDefaultWorkdir("/home/user")
                .build());

    var claimed = orchestrator.lifecycle().get(id).orElseThrow();
    assertThat(claimed.containerId()).as("the warm container was claimed").isEqualTo(warmId);
    assertThat(claimed.slot().index()).isEqualTo(warmSlot);
    assertThat(cpuWeight(runtime.cgroupDirs(warmId)))
        .as("claimed: the normal CPU weight")
        .isEqualTo(NORMAL_CPU_WEIGHT);
    assertThat(egressChain(warmSlot))
        .as("the request named no egress: none at all, as for a cold start")
        .contains("counter name \"denied\" drop")
        .doesNotContainPattern("(?m)^\\s*accept\\s*$");
    // hostname, /etc/hosts, /init's environment, user and workdir
    try (ConnectClient envd =
        ConnectClient.builder(
                URI.create("http://" + sandbox.getAddress() + ":" + sandbox.getEnvdPort()))
            .header("X-Access-Token", "warm-token")
            .timeout(WITHIN)
            .build()) {
      // the warm-up command the pool ran through envd left no process the user could see
      assertThat(
              envd.unary(
                      "process.Process/List",
                      ListRequest.getDefaultInstance(),
                      ListResponse.getDefaultInstance())
                  .getProcessesList())
          .isEmpty();
      assertThat(
              OrchestratorTest.run(
                  envd,
                  "hostname; echo $FROM_INIT; id -un; pwd; grep -c \"" + id + "\" /etc/hosts"))
          .isEqualTo(id + "\nclaimed\nuser\n/home/user\n1\n");
      assertThat(OrchestratorTest.run(envd, "grep \"" + id + "\" /etc/hosts"))
          .isEqualTo(sandbox.getAddress() + "\t" + id + "\n");
    }
    // the request's limits, applied to the claimed container's cgroups
    List<Path> cgroups = runtime.cgroupDirs(warmId);
    assertThat(cgroups).isNotEmpty();
    assertThat(readCgroup(cgroups, "memory.limit_in_bytes")).isEqualTo(256L * 1024 * 1024);
    assertThat(readCgroup(cgroups, "cpu.cfs_quota_us")).isEqualTo(100_000L);
    // the record that maps the sandbox to its container
    var record = SandboxRecord.read(runtime.sandboxDir(warmId)).orElseThrow();
    assertThat(record.sandboxId()).isEqualTo(id);
    assertThat(record.containerId()).isEqualTo(warmId);
    assertThat(record.accessToken()).isEqualTo("warm-token");
    assertThat(record.limits().memoryMB()).isEqualTo(256);

    // the pool refills with a new container
    await("the pool refilled", () -> warmWaiting("busybox") == 1);
    assertThat(warmContainers()).as("the claimed one and a new one").hasSize(2).contains(warmId);
    assertThat(LeakInventory.find(config, orchestrator))
        .as("the sandbox and the warm one are owned, nothing else is there")
        .isEmpty();
    assertThat(LeakInventory.find(config, null))
        .as("without the orchestrator, all of it would be leaks")
        .contains("container sbxk-" + warmId + " (RUNNING)", "bridge sbxk0");

    sandboxes.delete(DeleteSandboxRequest.newBuilder().setSandboxId(id).build());
    assertThat(runtime.find(warmId)).isEmpty();
    assertThat(runtime.cgroupDirs(warmId)).isEmpty();
    assertThat(Files.exists(runtime.sandboxDir(warmId))).isFalse();
    assertThat(orchestrator.lifecycle().address(id)).isNull();
  }

  @Test
  void aClaimChangesTheWarmRulesOnlyWhenItAsksForOthers() throws Exception {
    int blockList =
        claimWithEgress(
            dev.sbx.proto.orchestrator.EgressPolicy.newBuilder()
                .setInternetAccess(true)
                .addDeniedCidrs("10.99.0.0/16"));
    assertThat(egressChain(blockList))
        .as("the request's block-list replaced the warm rules")
        .contains("ip daddr 10.99.0.0/16 counter name \"denied\" drop")
        .containsPattern("(?m)^\\s*accept\\s*$");

    int internet =
        claimWithEgress(
            dev.sbx.proto.orchestrator.EgressPolicy.newBuilder().setInternetAccess(true));
    assertThat(egressChain(internet))
        .doesNotContain("drop")
        .containsPattern("(?m)^\\s*accept\\s*$");
  }

  /** Waits for a warm sandbox, claims it with {@code egress} and returns its slot's index. */
  static int claimWithEgress(dev.sbx.proto.orchestrator.EgressPolicy.Builder egress)
      throws Exception {
    await("a warm busybox sandbox", () -> warmWaiting("busybox") == 1);
    int warmSlot = warmSlotIndex();
    String id = newSandboxId();
    sandboxes.create(
        CreateSandboxRequest.newBuilder()
            .setSandboxId(id)
            .setTemplateId("busybox")
            .setEgress(egress)
            .build());
    assertThat(orchestrator.lifecycle().get(id).orElseThrow().slot().index())
        .as("the warm sandbox was claimed")
        .isEqualTo(warmSlot);
    return warmSlot;
  }

  @Test
  void aTemplateWithoutPoolStartsCold() throws Exception {
    String id = newSandboxId();
    Sandbox sandbox =
        sandboxes.create(
            CreateSandboxRequest.newBuilder()
                .setSandboxId(id)
                .setTemplateId("cold")
                .setEgress(
                    dev.sbx.proto.orchestrator.EgressPolicy.newBuilder()
                        .setInternetAccess(true)
                        .addDeniedCidrs("10.98.0.0/16"))
                .build());

    assertThat(orchestrator.lifecycle().get(id).orElseThrow().containerId()).isEqualTo(id);
    assertThat(sandbox.getCpuCount()).isEqualTo(2);
    assertThat(egressChain(orchestrator.lifecycle().get(id).orElseThrow().slot().index()))
        .as("a cold start's rules, written while its container started")
        .contains("ip daddr 10.98.0.0/16 counter name \"denied\" drop")
        .containsPattern("(?m)^\\s*accept\\s*$");
    assertThat(warmWaiting("cold")).isZero();
    sandboxes.delete(DeleteSandboxRequest.newBuilder().setSandboxId(id).build());
    assertThat(new RuncRuntime(runc).find(id)).isEmpty();
  }

  @Test
  void aColdStartRunsEnvdUpWithTheNodesCpusThenGetsTheRequestedQuota() throws Exception {
    List<dev.sbx.orchestrator.lifecycle.CreateTrace> traces =
        Collections.synchronizedList(new ArrayList<>());
    orchestrator.lifecycle().onCreate(traces::add);
    String id = newSandboxId();
    try {
      sandboxes.create(
          CreateSandboxRequest.newBuilder()
              .setSandboxId(id)
              .setTemplateId("cold")
              .setCpuCount(1)
              .setMemoryMb(256)
              .build());
    } finally {
      orchestrator.lifecycle().onCreate(null);
    }
    assertThat(readCgroup(new RuncRuntime(runc).cgroupDirs(id), "cpu.cfs_quota_us"))
        .as("one CPU, as asked")
        .isEqualTo(100_000L);
    List<String> steps =
        traces.stream()
            .filter(trace -> trace.sandboxId().equals(id))
            .flatMap(trace -> trace.steps().stream())
            .map(dev.sbx.orchestrator.lifecycle.CreateTrace.Step::name)
            .toList();
    if (Runtime.getRuntime().availableProcessors() > 1) {
      assertThat(steps)
          .as("the quota was written after envd answered, before /init")
          .containsSubsequence("envd /health", "CPU quota of the request", "envd /init");
    }
  }

  @Test
  void anEmptyPoolStartsCold() throws Exception {
    await("a warm busybox sandbox", () -> warmWaiting("busybox") == 1);
    String first = newSandboxId();
    String second = newSandboxId();
    // two at once: one claims the warm sandbox, the other cannot have one (the refill takes
    // longer than a claim) — unless the refill won, in which case both are claimed
    sandboxes.create(
        CreateSandboxRequest.newBuilder().setSandboxId(first).setTemplateId("busybox").build());
    sandboxes.create(
        CreateSandboxRequest.newBuilder().setSandboxId(second).setTemplateId("busybox").build());

    List<String> containers =
        List.of(
            orchestrator.lifecycle().get(first).orElseThrow().containerId(),
            orchestrator.lifecycle().get(second).orElseThrow().containerId());
    assertThat(containers.getFirst()).startsWith("warm");
    if (!containers.get(1).startsWith("warm")) {
      assertThat(containers.get(1)).as("a cold start has its own id").isEqualTo(second);
    }
    try (ConnectClient envd =
        ConnectClient.builder(
                URI.create("http://" + orchestrator.lifecycle().address(second) + ":49983"))
            .timeout(WITHIN)
            .build()) {
      assertThat(OrchestratorTest.run(envd, "hostname")).isEqualTo(second + "\n");
    }
  }

  /** cgroup v1 {@code cpu.shares} (2, 1024) or v2 {@code cpu.weight} (1, 100), as shares. */
  static final long LEAST_CPU_WEIGHT = 2;

  static final long NORMAL_CPU_WEIGHT = 1024;

  static long cpuWeight(List<Path> cgroups) throws Exception {
    for (Path dir : cgroups) {
      if (Files.exists(dir.resolve("cpu.shares"))) {
        return readCgroup(List.of(dir), "cpu.shares");
      }
    }
    long weight = readCgroup(cgroups, "cpu.weight");
    return weight == 1 ? LEAST_CPU_WEIGHT : weight == 100 ? NORMAL_CPU_WEIGHT : -weight;
  }

  /** The network slot of the (one) warm sandbox waiting, from its pid's network namespace. */
  static int warmSlotIndex() throws Exception {
    Set<String> claimed =
        Set.copyOf(
            orchestrator.lifecycle().list().stream()
                .map(dev.sbx.orchestrator.lifecycle.Sandbox::containerId)
                .toList());
    String warmId =
        warmContainers().stream().filter(c -> !claimed.contains(c)).findFirst().orElseThrow();
    String config =
        Files.readString(new RuncRuntime(runc).sandboxDir(warmId).resolve("config.json"));
    Matcher matcher = Pattern.compile("/run/netns/" + NETWORK.prefix() + "-(\\d+)").matcher(config);
    assertThat(matcher.find()).as("the warm container's network namespace in " + config).isTrue();
    return Integer.parseInt(matcher.group(1));
  }

  /** The rules of a slot's egress chain, as {@code nft} lists them. */
  static String egressChain(int slot) throws Exception {
    Process nft =
        new ProcessBuilder("nft", "list", "chain", "inet", NETWORK.table(), "egress_" + slot)
            .redirectErrorStream(true)
            .start();
    String out = new String(nft.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(nft.waitFor()).as("nft list chain: %s", out).isZero();
    return out;
  }

  static long readCgroup(List<Path> cgroups, String file) throws Exception {
    for (Path dir : cgroups) {
      if (Files.exists(dir.resolve(file))) {
        return Long.parseLong(Files.readString(dir.resolve(file)).strip());
      }
    }
    throw new AssertionError("no " + file + " in " + cgroups);
  }
}
