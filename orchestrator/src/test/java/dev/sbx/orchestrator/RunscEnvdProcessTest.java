package dev.sbx.orchestrator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sbx.connect.ConnectClient;
import dev.sbx.connect.ServerStream;
import dev.sbx.orchestrator.fixture.TestTemplate;
import dev.sbx.orchestrator.lifecycle.LifecycleSettings;
import dev.sbx.orchestrator.network.Ipv4Cidr;
import dev.sbx.orchestrator.network.NetworkConfig;
import dev.sbx.orchestrator.network.NetworkSlotPool;
import dev.sbx.orchestrator.rootfs.DirectoryTree;
import dev.sbx.orchestrator.runtime.RuncSettings;
import dev.sbx.orchestrator.runtime.RunscRuntime;
import dev.sbx.orchestrator.runtime.RunscSettings;
import dev.sbx.proto.orchestrator.CreateSandboxRequest;
import dev.sbx.proto.orchestrator.DeleteSandboxRequest;
import dev.sbx.proto.orchestrator.SandboxServiceGrpc;
import dev.sbx.proto.process.ProcessConfig;
import dev.sbx.proto.process.ProcessEvent;
import dev.sbx.proto.process.StartRequest;
import dev.sbx.proto.process.StartResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * envd's process API on gVisor: runsc 20240729 has no {@code pidfd_open}, so envd finds the exits
 * by polling {@code waitpid} (envd/README.md, "Process exits without a pidfd"). Commands started
 * through the node proxy give their stdout, stderr and exit code, and leave no zombie. Layout
 * {@code sbxe} (bridge {@code sbxe0}, 10.241.0.0/24), runsc's state in the test's work directory;
 * everything is removed, also on failure.
 */
class RunscEnvdProcessTest {
  private static final NetworkConfig NETWORK =
      new NetworkConfig("sbxe", "sbxe0", Ipv4Cidr.parse("10.241.0.0/24"), 0);

  private record Outcome(String stdout, String stderr, int exitCode, int pid) {}

  @Test
  void commandsThroughEnvdOnRunscGiveOutputAndExitCodes() throws Exception {
    assertThat(Files.getAttribute(Path.of("/proc/self"), "unix:uid")).isEqualTo(0);
    Path workDir = Files.createTempDirectory("sbxe-runsc-");
    List<String> left = new ArrayList<>();
    OrchestratorConfig config =
        new OrchestratorConfig(
                InetAddress.getLoopbackAddress(),
                0,
                workDir.resolve("templates"),
                new RuncSettings(
                    Path.of("runc"),
                    workDir.resolve("runc-state"),
                    workDir.resolve("sandboxes"),
                    "sbxe-",
                    "sbxe"),
                NETWORK,
                new LifecycleSettings(
                    TestTemplate.envdDist(),
                    3,
                    Duration.ofSeconds(90),
                    Duration.ofMillis(100),
                    List.of()))
            .withNodeProxy("127.0.0.1", 0)
            .withRunsc(
                new RunscSettings(
                    Path.of("runsc"),
                    workDir.resolve("runsc-state"),
                    workDir.resolve("sandboxes"),
                    "sbxe-",
                    "sbxe",
                    "systrap"));
    try {
      TestTemplate.install(workDir.resolve("templates"), "busybox");
      try (Orchestrator orchestrator = Orchestrator.start(config)) {
        ManagedChannel channel =
            Grpc.newChannelBuilderForAddress(
                    "127.0.0.1", orchestrator.port(), InsecureChannelCredentials.create())
                .build();
        try {
          var sandboxes =
              SandboxServiceGrpc.newBlockingStub(channel).withDeadlineAfter(3, TimeUnit.MINUTES);
          String id = "e" + ProcessHandle.current().pid();
          sandboxes.create(
              CreateSandboxRequest.newBuilder().setSandboxId(id).setTemplateId("busybox").build());
          assertThat(new RunscRuntime(config.runsc()).find(id)).isPresent();
          try (ConnectClient envd =
              ConnectClient.builder(URI.create("http://127.0.0.1:" + orchestrator.nodeProxyPort()))
                  .header("E2b-Sandbox-Id", id)
                  .header("E2b-Sandbox-Port", "49983")
                  .timeout(Duration.ofMinutes(1))
                  .build()) {
            Outcome quick = run(envd, "echo out; echo err >&2; exit 3");
            assertThat(quick.stdout()).isEqualTo("out\n");
            assertThat(quick.stderr()).isEqualTo("err\n");
            assertThat(quick.exitCode()).isEqualTo(3);

            // ends after the polling interval has grown; output written just before the exit
            Outcome slow = run(envd, "sleep 1; seq 1 20000 | tail -n 1; exit 0");
            assertThat(slow.stdout()).isEqualTo("20000\n");
            assertThat(slow.exitCode()).isZero();

            // a killed process: -1 as E2B reports signals
            Outcome killed = run(envd, "kill -9 $$");
            assertThat(killed.exitCode()).isEqualTo(-1);

            // every process above was reaped: no zombie in the sandbox
            Outcome zombies =
                run(
                    envd,
                    "for s in /proc/[0-9]*/stat; do read -r l < $s && echo \"$l\"; done"
                        + " | awk '$3 == \"Z\"' | wc -l");
            assertThat(zombies.stdout().strip()).isEqualTo("0");
            assertThat(zombies.exitCode()).isZero();
          }
          assertThat(LeakInventory.find(config, orchestrator)).isEmpty();
          sandboxes.delete(DeleteSandboxRequest.newBuilder().setSandboxId(id).build());
          assertThat(new RunscRuntime(config.runsc()).find(id)).isEmpty();
        } finally {
          channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
      }
      left.addAll(LeakInventory.find(config, null));
    } finally {
      RunscRuntime runtime = new RunscRuntime(config.runsc());
      runtime.list().forEach(s -> runtime.remove(s.sandboxId()));
      NetworkSlotPool.removeAll(NETWORK);
      try (DirectoryStream<Path> hierarchies =
          Files.newDirectoryStream(Path.of("/sys/fs/cgroup"))) {
        for (Path hierarchy : hierarchies) {
          Files.deleteIfExists(hierarchy.resolve("sbxe"));
        }
      }
      DirectoryTree.delete(workDir);
    }
    assertThat(left).as("left after the clean stop").isEmpty();
  }

  private static Outcome run(ConnectClient envd, String script) {
    StartRequest request =
        StartRequest.newBuilder()
            .setProcess(ProcessConfig.newBuilder().setCmd("/bin/sh").addArgs("-c").addArgs(script))
            .setStdin(false)
            .build();
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    int exitCode = 0;
    boolean ended = false;
    int pid = 0;
    try (ServerStream<StartResponse> events =
        envd.serverStream("process.Process/Start", request, StartResponse.getDefaultInstance())) {
      for (StartResponse response : events) {
        ProcessEvent event = response.getEvent();
        if (event.hasStart()) {
          pid = event.getStart().getPid();
        }
        if (event.hasData() && event.getData().hasStdout()) {
          event.getData().getStdout().writeTo(stdout);
        }
        if (event.hasData() && event.getData().hasStderr()) {
          event.getData().getStderr().writeTo(stderr);
        }
        if (event.hasEnd()) {
          exitCode = event.getEnd().getExitCode();
          ended = true;
        }
      }
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    assertThat(ended).as("end event of %s", script).isTrue();
    return new Outcome(
        stdout.toString(StandardCharsets.UTF_8),
        stderr.toString(StandardCharsets.UTF_8),
        exitCode,
        pid);
  }
}
