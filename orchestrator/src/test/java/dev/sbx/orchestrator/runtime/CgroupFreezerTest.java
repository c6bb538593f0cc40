package dev.sbx.orchestrator.runtime;

import static org.assertj.core.api.Assertions.assertThat;

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

  @Test
  void noFreezerFileMeansNone() throws Exception {
    Path memory = Files.createDirectories(dir.resolve("memory/sbx/c3"));
    Files.writeString(memory.resolve("memory.limit_in_bytes"), "1");

    assertThat(CgroupFreezer.of(List.of(memory))).isEmpty();
  }
}
