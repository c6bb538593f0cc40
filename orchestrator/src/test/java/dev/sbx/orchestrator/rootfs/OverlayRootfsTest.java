package dev.sbx.orchestrator.rootfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/** The overlay on a real filesystem (needs root): layers, unmount, removal; mountinfo parsing. */
class OverlayRootfsTest {
  @TempDir(cleanup = CleanupMode.NEVER)
  Path dir;

  @AfterEach
  void removeEverything() {
    MountTable.unmountBelow(dir);
    DirectoryTree.delete(dir);
    assertThat(dir).doesNotExist();
  }

  @Test
  void theMergedTreeShowsTheLowerLayerAndWritesGoUp() throws Exception {
    Path lower = Files.createDirectories(dir.resolve("lower"));
    Files.writeString(lower.resolve("kept"), "template");
    OverlayRootfs rootfs = OverlayRootfs.in(dir.resolve("sandbox"), lower);

    rootfs.mount();
    Files.writeString(rootfs.mountPoint().resolve("new"), "sandbox");
    Files.writeString(rootfs.mountPoint().resolve("kept"), "changed");

    assertThat(rootfs.isMounted()).isTrue();
    assertThat(MountTable.mountPointsUnder(dir)).containsExactly(rootfs.mountPoint());
    assertThat(lower.resolve("kept")).hasContent("template");
    assertThat(lower.resolve("new")).doesNotExist();
    assertThat(rootfs.upper().resolve("new")).hasContent("sandbox");
    assertThat(rootfs.upper().resolve("kept")).hasContent("changed");

    rootfs.remove();

    assertThat(rootfs.isMounted()).isFalse();
    assertThat(MountTable.mountPointsUnder(dir)).isEmpty();
    assertThat(rootfs.upper()).doesNotExist();
    assertThat(rootfs.work()).doesNotExist();
    assertThat(rootfs.mountPoint()).doesNotExist();
    assertThat(lower.resolve("kept")).hasContent("template");
  }

  @Test
  void unmountingWhatIsNotMountedDoesNothing() {
    OverlayRootfs rootfs = OverlayRootfs.in(dir.resolve("sandbox"), dir);

    rootfs.unmount();
    rootfs.remove();

    assertThat(dir.resolve("sandbox")).doesNotExist();
  }

  @Test
  void aMissingLowerLayerIsRefusedBeforeAnythingIsMade() {
    OverlayRootfs rootfs = OverlayRootfs.in(dir.resolve("sandbox"), dir.resolve("missing"));

    assertThatThrownBy(rootfs::mount).hasMessageContaining("not a directory");
    assertThat(dir.resolve("sandbox")).doesNotExist();
  }

  @Test
  void pathsOverlayfsCannotParseAreRefused() {
    assertThatThrownBy(() -> OverlayRootfs.in(dir.resolve("a,b"), dir))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> OverlayRootfs.in(dir, dir.resolve("a:b")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aTreeWithAMountBelowIsNotDeleted() throws Exception {
    Path lower = Files.createDirectories(dir.resolve("lower"));
    OverlayRootfs rootfs = OverlayRootfs.in(dir.resolve("sandbox"), lower);
    rootfs.mount();

    assertThatThrownBy(() -> DirectoryTree.delete(dir.resolve("sandbox")))
        .hasMessageContaining("mounted below");
    assertThat(rootfs.isMounted()).isTrue();
    assertThat(rootfs.upper()).isDirectory();
  }

  @Test
  void mountinfoEscapesAreDecoded() {
    assertThat(MountTable.unescape("/tmp/a\\040b\\011c\\134d")).isEqualTo("/tmp/a b\tc\\d");
    assertThat(MountTable.unescape("/plain")).isEqualTo("/plain");
    assertThat(MountTable.unescape("/trailing\\04")).isEqualTo("/trailing\\04");
  }
}
