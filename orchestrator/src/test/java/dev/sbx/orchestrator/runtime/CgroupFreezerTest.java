package dev.sbx.orchestrator.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link CgroupFreezer} on plain files standing in for cgroup files (a plain file reads back what
 * was written, as a cgroup whose tasks froze at once does).
 */
class CgroupFreezerTest {
  @TempDir Path dir;

  @Test
  void theV1FreezerWinsOverTheUnifiedHierarchyOfAHybridHost() throws Exception {
    Path unified = Files.createDirectories(dir.resolve("unified/sbx/c1"));
    Files.writeString(unified.resolve("cgroup.freeze"), "0");
    Files.writeString(unified.resolve("cgroup.events"), "populated 1\nfrozen 0\n");
    Path freezer = Files.createDirectories(dir.resolve("freezer/sbx/c1"));
    Files.writeString(freezer.resolve("freezer.state"), "THAWED");

    CgroupFreezer found = CgroupFreezer.of(List.of(unified, freezer)).orElseThrow();
    assertThat(found.freeze(Duration.ofSeconds(1))).isTrue();

    assertThat(freezer.resolve("freezer.state")).hasContent("FROZEN");
    assertThat(unified.resolve("cgroup.freeze")).hasContent("0");
    assertThat(found.isFrozen()).isTrue();
    assertThat(found.thaw(Duration.ofSeconds(1))).isTrue();
    assertThat(freezer.resolve("freezer.state")).hasContent("THAWED");
  }

  /**
   * For real (root, the cgroup v1 freezer, dash): a dash loop runs {@code /bin/true} through {@code
   * vfork} without pause, so a plain freeze often stops a child before its {@code exec} and its
   * shell waiting for it, which CRIU cannot seize. Every freeze here must end without such a
   * waiter. The cgroup {@code /sys/fs/cgroup/freezer/sbxvf-<pid>} is removed after.
   */
  @Test
  void aFreezeNeverLeavesAShellWaitingForItsVforkChild() throws Exception {
    Path freezers = Path.of("/sys/fs/cgroup/freezer");
    assumeTrue(Files.isDirectory(freezers), "a cgroup v1 freezer hierarchy");
    assumeTrue(Files.isExecutable(Path.of("/bin/dash")), "dash");
    Path cgroup = freezers.resolve("sbxvf-" + ProcessHandle.current().pid());
    Files.createDirectory(cgroup);
    Process loop =
        new ProcessBuilder(
                "/bin/sh",
                "-c",
                "echo $$ > "
                    + cgroup.resolve("cgroup.procs")
                    + "; exec /bin/dash -c"
                    + " 'while :; do /bin/true; done'")
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    CgroupFreezer freezer = CgroupFreezer.of(List.of(cgroup)).orElseThrow();
    try {
      while (Files.readString(cgroup.resolve("cgroup.procs")).isBlank()) {
        Thread.sleep(5);
      }
      for (int i = 0; i < 40; i++) {
        assertThat(freezer.freeze(Duration.ofSeconds(10))).isTrue();
        assertThat(freezer.vforkWaiters()).as("freeze %d", i).isEmpty();
        assertThat(freezer.thaw(Duration.ofSeconds(10))).isTrue();
        Thread.sleep(3);
      }
    } finally {
      freezer.thaw(Duration.ofSeconds(10));
      loop.destroyForcibly().waitFor();
      for (String pid : Files.readString(cgroup.resolve("cgroup.procs")).split("\\s+")) {
        if (!pid.isBlank()) {
          ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
        }
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (!Files.readString(cgroup.resolve("cgroup.procs")).isBlank()
          && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      Files.delete(cgroup); // rmdir
    }
  }

  @Test
  void theRetryDelayDoublesUpTo100Ms() {
    assertThat(CgroupFreezer.retryDelay(0)).isEqualTo(Duration.ofMillis(5));
    assertThat(CgroupFreezer.retryDelay(1)).isEqualTo(Duration.ofMillis(10));
    assertThat(CgroupFreezer.retryDelay(4)).isEqualTo(Duration.ofMillis(80));
    assertThat(CgroupFreezer.retryDelay(5)).isEqualTo(Duration.ofMillis(100));
    assertThat(CgroupFreezer.retryDelay(30)).isEqualTo(Duration.ofMillis(100));
  }

  @Test
  void noFreezerFileMeansNone() throws Exception {
    Path memory = Files.createDirectories(dir.resolve("memory/sbx/c3"));
    Files.writeString(memory.resolve("memory.limit_in_bytes"), "1");

    assertThat(CgroupFreezer.of(List.of(memory))).isEmpty();
  }
}
