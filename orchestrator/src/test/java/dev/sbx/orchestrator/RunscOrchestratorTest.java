package dev.sbx.orchestrator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sbx.orchestrator.fixture.TestTemplate;
import dev.sbx.orchestrator.lifecycle.LifecycleSettings;
import dev.sbx.orchestrator.network.NetworkSlotPool;
import dev.sbx.orchestrator.rootfs.DirectoryTree;
import dev.sbx.orchestrator.runtime.RunscRuntime;
import dev.sbx.orchestrator.runtime.RunscSettings;
import dev.sbx.proto.orchestrator.CreateSandboxRequest;
import dev.sbx.proto.orchestrator.DeleteSandboxRequest;
import dev.sbx.proto.orchestrator.NodeInfoRequest;
import dev.sbx.proto.orchestrator.NodeServiceGrpc;
import dev.sbx.proto.orchestrator.Sandbox;
import dev.sbx.proto.orchestrator.SandboxServiceGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The orchestrator on gVisor ({@code OrchestratorConfig.withRunsc}): create → a command through the
 * node proxy → delete → clean stop → nothing left. Layout {@code sbxk} (as {@link
 * OrchestratorProcess}), runsc's own state root in the test's work directory.
 */
class RunscOrchestratorTest {

  @Test
  void aSandboxOnRunscThroughTheNodeProxyThenNothingLeft() throws Exception {
    assertThat(Files.getAttribute(Path.of("/proc/self"), "unix:uid")).isEqualTo(0);
    Path workDir = Files.createTempDirectory("sbxk-runsc-");
    List<String> left = new ArrayList<>();
    OrchestratorConfig config =
        OrchestratorProcess.config(workDir, false)
            .withLifecycle(
                new LifecycleSettings(
                    TestTemplate.envdDist(),
                    3,
                    Duration.ofSeconds(90),
                    Duration.ofMillis(100),
                    List.of()))
            .withRunsc(
                new RunscSettings(
                    Path.of("runsc"),
                    workDir.resolve("runsc-state"),
                    workDir.resolve("sandboxes"),
                    "sbxk-",
                    "sbxk",
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
          String id = "g" + ProcessHandle.current().pid();
          Sandbox sandbox =
              sandboxes.create(
                  CreateSandboxRequest.newBuilder()
                      .setSandboxId(id)
                      .setTemplateId("busybox")
                      .build());
          assertThat(
                  NodeServiceGrpc.newBlockingStub(channel)
                      .info(NodeInfoRequest.getDefaultInstance())
                      .getRuntime())
              .isEqualTo("runsc");
          assertThat(new RunscRuntime(config.runsc()).find(id)).isPresent();
          // envd's process API fails under gVisor (envd calls pidfd_open, which gVisor 20240729
          // lacks); its file API works: a file written and read through the node proxy
          HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
          URI proxy = URI.create("http://127.0.0.1:" + orchestrator.nodeProxyPort());
          HttpResponse<String> upload =
              http.send(
                  HttpRequest.newBuilder(proxy.resolve("/files?path=/tmp/on-gvisor.txt"))
                      .header("E2b-Sandbox-Id", id)
                      .header("E2b-Sandbox-Port", "49983")
                      .header("Content-Type", "application/octet-stream")
                      .POST(HttpRequest.BodyPublishers.ofString("gvisor\n"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
          assertThat(upload.statusCode()).as(upload.body()).isEqualTo(200);
          HttpResponse<String> download =
              http.send(
                  HttpRequest.newBuilder(proxy.resolve("/files?path=/tmp/on-gvisor.txt"))
                      .header("E2b-Sandbox-Id", id)
                      .header("E2b-Sandbox-Port", "49983")
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
          assertThat(download.body()).isEqualTo("gvisor\n");
          assertThat(LeakInventory.find(config, orchestrator)).isEmpty();
          sandboxes.delete(DeleteSandboxRequest.newBuilder().setSandboxId(id).build());
          assertThat(new RunscRuntime(config.runsc()).find(id)).isEmpty();
          assertThat(sandbox.getAddress()).isNotEmpty();
        } finally {
          channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
      }
      left.addAll(LeakInventory.find(config, null));
    } finally {
      RunscRuntime runtime = new RunscRuntime(config.runsc());
      runtime.list().forEach(s -> runtime.remove(s.sandboxId()));
      NetworkSlotPool.removeAll(OrchestratorProcess.NETWORK);
      try (DirectoryStream<Path> hierarchies =
          Files.newDirectoryStream(Path.of("/sys/fs/cgroup"))) {
        for (Path hierarchy : hierarchies) {
          Files.deleteIfExists(hierarchy.resolve("sbxk"));
        }
      }
      DirectoryTree.delete(workDir);
    }
    assertThat(left).as("left after the clean stop").isEmpty();
  }
}
