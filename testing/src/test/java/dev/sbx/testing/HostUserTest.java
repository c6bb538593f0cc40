package dev.sbx.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class HostUserTest {
  @BeforeEach
  void needsRoot() {
    assumeTrue("root".equals(System.getProperty("user.name")), "useradd needs root");
  }

  @Test
  void throwawayUserIsCreatedAndRemovedWithItsHomeAndProcesses() throws Exception {
    HostUser user = HostUser.throwaway();
    Path home = user.home();
    Process sleeper;
    try (user) {
      assertThat(user.created()).isTrue();
      assertThat(HostUser.exists(user.name())).isTrue();
      assertThat(user.uid()).isPositive();
      assertThat(user.supplementaryGroup()).isEmpty();
      assertThat(Files.isDirectory(home)).isTrue();
      assertThat(Files.getOwner(home).getName()).isEqualTo(user.name());
      Files.writeString(home.resolve("left-behind.txt"), "x");
      sleeper = new ProcessBuilder("runuser", "-u", user.name(), "--", "sleep", "300").start();
      awaitUser(sleeper.toHandle(), user.name());
    }
    assertThat(HostUser.exists(user.name())).isFalse();
    assertThat(Files.exists(home)).isFalse();
    assertThat(sleeper.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void throwawayWithSupplementaryGroupIsInANewGroupRemovedWithIt() throws Exception {
    HostUser user = HostUser.throwawayWithSupplementaryGroup();
    String group = user.supplementaryGroup().orElseThrow();
    try (user) {
      assertThat(user.created()).isTrue();
      assertThat(HostUser.groupExists(group)).isTrue();
      Process id = new ProcessBuilder("id", "-Gn", user.name()).start();
      String groups = new String(id.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(id.waitFor()).isZero();
      assertThat(groups.strip().split(" ", -1)).containsExactlyInAnyOrder(user.name(), group);
    }
    assertThat(HostUser.exists(user.name())).isFalse();
    assertThat(HostUser.groupExists(group)).isFalse();
    assertThat(Files.exists(user.home())).isFalse();
  }

  @Test
  void ensureLeavesAnExistingUserAlone() {
    try (HostUser root = HostUser.ensure("root")) {
      assertThat(root.created()).isFalse();
      assertThat(root.uid()).isZero();
      assertThat(root.home()).isEqualTo(Path.of("/root"));
    }
    assertThat(HostUser.exists("root")).isTrue();
  }

  @Test
  void ensureCreatesAMissingUserAndRemovesIt() {
    String name;
    try (HostUser probe = HostUser.throwaway()) {
      name = probe.name();
    }
    try (HostUser user = HostUser.ensure(name)) {
      assertThat(user.created()).isTrue();
      assertThat(HostUser.exists(name)).isTrue();
    }
    assertThat(HostUser.exists(name)).isFalse();
  }

  private static void awaitUser(ProcessHandle process, String name) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    List<ProcessHandle> all = List.of(process);
    while (System.nanoTime() < deadline) {
      all = process.descendants().toList();
      if (all.stream().anyMatch(p -> p.info().user().map(name::equals).orElse(false))
          || process.info().user().map(name::equals).orElse(false)) {
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no process of " + name + " among " + all);
  }
}
