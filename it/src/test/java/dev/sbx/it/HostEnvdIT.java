package dev.sbx.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sbx.testing.EnvdLaunch;
import dev.sbx.testing.HostEnvd;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@link HostEnvd} fixture against the real envd: start, health, log, and a clean stop. */
class HostEnvdIT {
  @Test
  void startsHealthyLogsAndStopsWithItsWholeTree() throws Exception {
    int port = freePort();
    Path log = Path.of("target/host-envd-it-" + port + ".log");
    List<ProcessHandle> tree;
    try (HostEnvd envd = HostEnvd.start(EnvdLaunch.detect(), port, log)) {
      assertThat(envd.baseUrl().toString()).isEqualTo("http://127.0.0.1:" + port);
      HttpResponse<String> health = envd.get("/health");
      assertThat(health.statusCode()).isEqualTo(204);
      assertThat(health.headers().firstValue("Cache-Control")).contains("no-store");
      tree = envd.process().tree();
      assertThat(tree).isNotEmpty();
      envd.close();
      for (ProcessHandle handle : tree) {
        assertThat(handle.isAlive()).as("pid %d after close", handle.pid()).isFalse();
      }
    }
    assertThat(Files.readString(log)).contains("listening");
    try (ServerSocket again = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      assertThat(again.getLocalPort()).isEqualTo(port);
    }
  }

  @Test
  void refusesAPortThatIsTaken() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      assertThatThrownBy(
              () ->
                  HostEnvd.start(
                      EnvdLaunch.detect(), taken.getLocalPort(), Path.of("target/unused.log")))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("already in use");
    }
  }

  @Test
  void reportsAnEnvdThatExitsBeforeItIsHealthy() {
    EnvdLaunch broken =
        new EnvdLaunch(
            "a launcher that fails",
            List.of("sh", "-c", "echo no such envd >&2; exit 3"),
            Map.of());
    long started = System.nanoTime();
    assertThatThrownBy(
            () -> HostEnvd.start(broken, freePortUnchecked(), Path.of("target/broken-envd.log")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("exited")
        .hasMessageContaining("no such envd");
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(30));
  }

  private static int freePortUnchecked() {
    try {
      return freePort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
