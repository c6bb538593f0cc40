package dev.sbx.envd.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InotifyTest {
  @TempDir Path dir;

  @Test
  void reportsACreatedFile() throws IOException {
    try (Inotify inotify = Inotify.open()) {
      int wd = inotify.addWatch(dir, Inotify.IN_CREATE | Inotify.IN_MOVED_FROM);
      Files.writeString(dir.resolve("new.txt"), "x");
      List<Inotify.Event> events = inotify.read();
      assertThat(events).isNotEmpty();
      Inotify.Event event = events.get(0);
      assertThat(event.wd()).isEqualTo(wd);
      assertThat(event.has(Inotify.IN_CREATE)).isTrue();
      assertThat(event.has(Inotify.IN_ISDIR)).isFalse();
      assertThat(event.name()).isEqualTo("new.txt");
    }
  }

  @Test
  void closeWakesABlockedReader() throws Exception {
    Inotify inotify = Inotify.open();
    inotify.addWatch(dir, Inotify.IN_CREATE);
    CompletableFuture<List<Inotify.Event>> read =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return inotify.read();
              } catch (IOException e) {
                throw new IllegalStateException(e);
              }
            });
    // The reader blocks in poll(2) until close.
    assertThat(read).isNotDone();
    inotify.close();
    assertThat(read.get(5, TimeUnit.SECONDS)).isEmpty();
    inotify.close(); // idempotent
    assertThatThrownBy(() -> inotify.addWatch(dir, Inotify.IN_CREATE))
        .isInstanceOf(IOException.class);
    assertThat(inotify.removeWatch(1)).isFalse();
  }

  @Test
  void watchingAMissingPathFails() throws IOException {
    try (Inotify inotify = Inotify.open()) {
      assertThatThrownBy(() -> inotify.addWatch(dir.resolve("missing"), Inotify.IN_CREATE))
          .isInstanceOf(NoSuchFileException.class)
          .hasMessageContaining("missing");
    }
  }

  @Test
  void removedWatchesAreReportedIgnored() throws IOException {
    try (Inotify inotify = Inotify.open()) {
      int wd = inotify.addWatch(dir, Inotify.IN_CREATE);
      assertThat(inotify.removeWatch(wd)).isTrue();
      assertThat(inotify.read()).anySatisfy(e -> assertThat(e.has(Inotify.IN_IGNORED)).isTrue());
      assertThat(inotify.removeWatch(wd)).isFalse();
    }
  }

  @Test
  void filesystemTypeAndAttributes() throws IOException {
    assertThat(LinuxFiles.filesystemType(Path.of("/proc"))).isEqualTo(0x9fa0L); // PROC_SUPER_MAGIC
    assertThatThrownBy(() -> LinuxFiles.filesystemType(dir.resolve("missing")))
        .isInstanceOf(NoSuchFileException.class);
    Path file = Files.writeString(dir.resolve("f"), "x");
    assertThat(LinuxFiles.listAttributes(file)).doesNotContain("user.e2b.k");
    Files.getFileAttributeView(file, java.nio.file.attribute.UserDefinedFileAttributeView.class)
        .write("e2b.k", java.nio.charset.StandardCharsets.UTF_8.encode("v"));
    assertThat(LinuxFiles.listAttributes(file)).contains("user.e2b.k");
    assertThat(LinuxFiles.getAttribute(file, "user.e2b.k"))
        .hasValueSatisfying(v -> assertThat(new String(v)).isEqualTo("v"));
    assertThat(LinuxFiles.getAttribute(file, "user.e2b.none")).isEmpty();
  }
}
