package dev.sbx.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostProcessTest {
  @TempDir Path dir;

  @Test
  void closeKillsChildrenAndOrphans() throws Exception {
    // without tini the orphan below would escape the tree and outlive the test
    assumeTrue(HostProcess.subreaperAvailable(), "tini is not installed");
    Path log = dir.resolve("logs/tree.log");
    // a child that stays a child, one in its own session, and an orphan whose parent exits at once
    String script = "sleep 300 & setsid sleep 301 & (sleep 302 &) ; echo started; exec sleep 303";
    List<ProcessHandle> tree;
    try (HostProcess process = HostProcess.start(List.of("bash", "-c", script), Map.of(), log)) {
      tree = awaitSleeps(process, 4);
      assertThat(tree).allMatch(ProcessHandle::isAlive);
      process.close();
      assertThat(process.isAlive()).isFalse();
    }
    for (ProcessHandle handle : tree) {
      assertThat(handle.isAlive()).as("pid %d", handle.pid()).isFalse();
    }
    assertThat(Files.readString(log)).contains("started");
  }

  @Test
  void environmentIsPassedAndOutputLogged() throws Exception {
    Path log = dir.resolve("env.log");
    try (HostProcess process =
        HostProcess.start(
            List.of("sh", "-c", "echo value=$SBX_TEST_VALUE >&2"),
            Map.of("SBX_TEST_VALUE", "42"),
            log)) {
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (process.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(process.exitCode()).contains(0);
      assertThat(process.logTail(100)).isEqualTo("value=42\n");
    }
  }

  @Test
  void rejectsAnEmptyCommand() {
    assertThatThrownBy(() -> HostProcess.start(List.of(), Map.of(), dir.resolve("x.log")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /** Polls until the tree holds {@code sleeps} sleep processes. */
  private static List<ProcessHandle> awaitSleeps(HostProcess process, int sleeps)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    List<ProcessHandle> tree = process.tree();
    while (System.nanoTime() < deadline) {
      tree = process.tree();
      long sleeping =
          tree.stream()
              .filter(p -> p.info().command().map(c -> c.endsWith("/sleep")).orElse(false))
              .count();
      if (sleeping == sleeps) {
        return tree;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("process tree never had its sleeps: " + tree);
  }
}
