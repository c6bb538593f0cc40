package dev.sbx.envd.filesystem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sbx.envd.user.UserDirectory;
import dev.sbx.proto.filesystem.EntryInfo;
import dev.sbx.proto.filesystem.FileType;
import dev.sbx.testing.HostUser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EntryInfosTest {
  @TempDir Path dir;

  private final EntryInfos entries = new EntryInfos(UserDirectory.system());

  @Test
  void regularFile() throws IOException {
    Path file = Files.writeString(dir.resolve("a.txt"), "hello");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    Instant modified = Instant.parse("2024-05-06T07:08:09.123456789Z");
    Files.setLastModifiedTime(file, FileTime.from(modified));

    EntryInfo entry = entries.of(file);

    assertThat(entry.getName()).isEqualTo("a.txt");
    assertThat(entry.getPath()).isEqualTo(file.toString());
    assertThat(entry.getType()).isEqualTo(FileType.FILE_TYPE_FILE);
    assertThat(entry.getSize()).isEqualTo(5);
    assertThat(entry.getMode()).isEqualTo(0644);
    assertThat(entry.getPermissions()).isEqualTo("-rw-r--r--");
    assertThat(entry.getOwner()).isEqualTo("root");
    assertThat(entry.getGroup()).isEqualTo("root");
    assertThat(entry.getModifiedTime().getSeconds()).isEqualTo(modified.getEpochSecond());
    assertThat(entry.getModifiedTime().getNanos()).isEqualTo(123456789);
    assertThat(entry.hasSymlinkTarget()).isFalse();
    assertThat(entry.getMetadataMap()).isEmpty();
  }

  @Test
  void directoryAndSetuidFile() throws IOException {
    Path sub = Files.createDirectory(dir.resolve("sub"));
    Files.setPosixFilePermissions(sub, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path tool = Files.writeString(dir.resolve("tool"), "#!/bin/sh\n");
    Files.setAttribute(tool, "unix:mode", 04755);

    EntryInfo directory = entries.of(sub);
    assertThat(directory.getType()).isEqualTo(FileType.FILE_TYPE_DIRECTORY);
    assertThat(directory.getPermissions()).isEqualTo("drwxr-xr-x");
    assertThat(directory.getMode()).isEqualTo(0755);

    EntryInfo setuid = entries.of(tool);
    assertThat(setuid.getPermissions()).isEqualTo("urwxr-xr-x");
    assertThat(setuid.getMode()).isEqualTo(0755);
  }

  @Test
  void symlinkReportsItsTargetsTypeAndMode() throws IOException {
    Path target = Files.writeString(dir.resolve("target.txt"), "0123456789");
    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-------"));
    Path link = Files.createSymbolicLink(dir.resolve("link"), Path.of("target.txt"));
    Path dirLink = Files.createSymbolicLink(dir.resolve("dirlink"), dir);

    EntryInfo entry = entries.of(link);
    assertThat(entry.getName()).isEqualTo("link");
    assertThat(entry.getPath()).isEqualTo(link.toString());
    assertThat(entry.getType()).isEqualTo(FileType.FILE_TYPE_FILE);
    assertThat(entry.getMode()).isEqualTo(0600);
    assertThat(entry.getPermissions()).isEqualTo("Lrwxrwxrwx");
    assertThat(entry.getSize()).isEqualTo("target.txt".length()); // the link's own size
    assertThat(entry.getSymlinkTarget()).isEqualTo(target.toRealPath().toString());

    EntryInfo toDirectory = entries.of(dirLink);
    assertThat(toDirectory.getType()).isEqualTo(FileType.FILE_TYPE_DIRECTORY);
    assertThat(toDirectory.getSymlinkTarget()).isEqualTo(dir.toRealPath().toString());
  }

  @Test
  void danglingSymlinkIsASymlinkWithoutMode() throws IOException {
    Path link = Files.createSymbolicLink(dir.resolve("dangling"), Path.of("missing/file"));
    Path loop = Files.createSymbolicLink(dir.resolve("loop"), Path.of("loop"));

    EntryInfo entry = entries.of(link);
    assertThat(entry.getType()).isEqualTo(FileType.FILE_TYPE_SYMLINK);
    assertThat(entry.getMode()).isZero();
    assertThat(entry.getPermissions()).isEqualTo("Lrwxrwxrwx");
    assertThat(entry.getSymlinkTarget()).isEqualTo(dir.resolve("missing/file").toString());
    assertThat(entry.getMetadataMap()).isEmpty();

    assertThat(entries.of(loop).getType()).isEqualTo(FileType.FILE_TYPE_SYMLINK);
  }

  @Test
  void namedPipeIsUnspecifiedAndDoesNotBlock() throws Exception {
    Path fifo = dir.resolve("fifo");
    Process mkfifo = new ProcessBuilder("mkfifo", "-m", "0640", fifo.toString()).start();
    assertThat(mkfifo.waitFor()).isZero();

    EntryInfo entry = entries.of(fifo);
    assertThat(entry.getType()).isEqualTo(FileType.FILE_TYPE_UNSPECIFIED);
    assertThat(entry.getPermissions()).isEqualTo("prw-r-----");
    assertThat(entry.getMode()).isEqualTo(0640);
  }

  @Test
  void ownerAndGroupAreNamesFromTheDirectory() throws Exception {
    Path file = Files.writeString(dir.resolve("owned"), "x");
    try (HostUser user = HostUser.throwaway()) {
      Files.setAttribute(file, "unix:uid", user.uid());
      Files.setAttribute(file, "unix:gid", user.gid());
      EntryInfo entry = new EntryInfos(UserDirectory.system()).of(file);
      assertThat(entry.getOwner()).isEqualTo(user.name());
      assertThat(entry.getGroup()).isEqualTo(user.name());
    }
    // Ids nobody has are shown as numbers.
    Files.setAttribute(file, "unix:uid", 4_000_123);
    Files.setAttribute(file, "unix:gid", 4_000_124);
    EntryInfo entry = new EntryInfos(UserDirectory.system()).of(file);
    assertThat(entry.getOwner()).isEqualTo("4000123");
    assertThat(entry.getGroup()).isEqualTo("4000124");
  }

  @Test
  void metadataFromUserE2bAttributes() throws IOException {
    Path file = Files.writeString(dir.resolve("meta.txt"), "x");
    UserDefinedFileAttributeView view =
        Files.getFileAttributeView(file, UserDefinedFileAttributeView.class);
    view.write("e2b.owner", StandardCharsets.UTF_8.encode("alice"));
    view.write("e2b.empty", ByteBuffer.allocate(0));
    view.write("e2b.binary", ByteBuffer.wrap(new byte[] {(byte) 0xff, (byte) 0xfe}));
    view.write("other", StandardCharsets.UTF_8.encode("not ours"));
    Path link = Files.createSymbolicLink(dir.resolve("meta-link"), file);

    assertThat(entries.of(file).getMetadataMap())
        .containsExactlyInAnyOrderEntriesOf(java.util.Map.of("owner", "alice", "empty", ""));
    assertThat(entries.of(link).getMetadataMap()).containsEntry("owner", "alice");
  }

  @Test
  void noMetadataWhereTheFilesystemHasNoXattrs() throws IOException {
    // procfs supports no user xattrs
    EntryInfo entry = entries.of(Path.of("/proc/self/status"));
    assertThat(entry.getMetadataMap()).isEmpty();
  }

  @Test
  void missingPath() {
    assertThatThrownBy(() -> entries.of(dir.resolve("nope")))
        .isInstanceOf(NoSuchFileException.class);
  }

  @Test
  void rootDirectoryIsNamedSlash() throws IOException {
    EntryInfo entry = entries.of(Path.of("/"));
    assertThat(entry.getName()).isEqualTo("/");
    assertThat(entry.getType()).isEqualTo(FileType.FILE_TYPE_DIRECTORY);
    assertThat(List.of(entry.getPath())).containsExactly("/");
    assertThat(Files.isDirectory(Path.of("/"), LinkOption.NOFOLLOW_LINKS)).isTrue();
  }
}
