package dev.sbx.orchestrator;

import dev.sbx.orchestrator.fixture.TestTemplate;
import dev.sbx.orchestrator.lifecycle.LifecycleSettings;
import dev.sbx.orchestrator.network.Ipv4Cidr;
import dev.sbx.orchestrator.network.NetworkConfig;
import dev.sbx.orchestrator.runtime.RuncSettings;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * An orchestrator in its own JVM for {@link CrashRecoveryTest}, on the {@code sbxk} layout below a
 * work directory: arguments are the work directory and {@code keep} or {@code delete} (what a clean
 * stop does with the sandboxes). Prints {@code ports <grpc> <node proxy>} once serving and stops
 * cleanly when stdin closes; the test may instead kill it with SIGKILL.
 */
final class OrchestratorProcess {
  static final NetworkConfig NETWORK =
      new NetworkConfig("sbxk", "sbxk0", Ipv4Cidr.parse("10.234.0.0/24"), 0);

  private OrchestratorProcess() {}

  /** The configuration both the child and the test (for its checks) use. */
  static OrchestratorConfig config(Path workDir, boolean keepSandboxesOnStop) {
    return config(workDir, keepSandboxesOnStop, Duration.ofMillis(100));
  }

  static OrchestratorConfig config(
      Path workDir, boolean keepSandboxesOnStop, Duration reaperInterval) {
    return new OrchestratorConfig(
            InetAddress.getLoopbackAddress(),
            0,
            workDir.resolve("templates"),
            new RuncSettings(
                Path.of("runc"),
                workDir.resolve("runc-state"),
                workDir.resolve("sandboxes"),
                "sbxk-",
                "sbxk"),
            NETWORK,
            new LifecycleSettings(
                TestTemplate.envdDist(), 3, Duration.ofSeconds(60), reaperInterval, List.of()))
        .withNodeProxy("127.0.0.1", 0)
        .withKeepSandboxesOnStop(keepSandboxesOnStop);
  }

  public static void main(String[] args) throws Exception {
    OrchestratorConfig config =
        config(
            Path.of(args[0]), args[1].equals("keep"), Duration.ofMillis(Long.parseLong(args[2])));
    try (Orchestrator orchestrator = Orchestrator.start(config)) {
      System.out.println("ports " + orchestrator.port() + " " + orchestrator.nodeProxyPort());
      System.out.flush();
      while (System.in.read() >= 0) {
        // until the parent closes our stdin
      }
    }
  }
}
