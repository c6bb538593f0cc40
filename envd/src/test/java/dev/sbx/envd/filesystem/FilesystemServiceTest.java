package dev.sbx.envd.filesystem;

import static dev.sbx.envd.ConnectAssertions.assertConnectError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sbx.connect.CallContext;
import dev.sbx.connect.ConnectCode;
import dev.sbx.connect.ServiceDefinition;
import dev.sbx.envd.FakeCallContext;
import dev.sbx.envd.SandboxSettings;
import dev.sbx.envd.user.RequestUsers;
import dev.sbx.envd.user.SandboxUser;
import dev.sbx.envd.user.UserDirectory;
import dev.sbx.proto.filesystem.EntryInfo;
import dev.sbx.proto.filesystem.FileType;
import dev.sbx.proto.filesystem.ListDirRequest;
import dev.sbx.proto.filesystem.MakeDirRequest;
import dev.sbx.proto.filesystem.MoveRequest;
import dev.sbx.proto.filesystem.RemoveRequest;
import dev.sbx.proto.filesystem.StatRequest;
import dev.sbx.testing.HostUser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FilesystemServiceTest {
  private static HostUser throwaway;
  private static SandboxUser user;

  @TempDir Path dir;

  private final SandboxSettings settings = new SandboxSettings(Map.of());
  private final FilesystemService service =
      new FilesystemService(settings, new RequestUsers(UserDirectory.system(), settings));

  @BeforeAll
  static void createUser() throws Exception {
    throwaway = HostUser.throwaway();
    user = UserDirectory.system().byName(throwaway.name()).orElseThrow();
  }

  @AfterAll
  static void removeUser() {
    if (throwaway != null) {
      throwaway.close();
    }
  }

  private static SandboxUser user() {
    return user;
  }

  private static CallContext asUser() {
    return FakeCallContext.create().user(throwaway.name());
  }

  private static CallContext asRoot() {
    return FakeCallContext.create();
  }

  @Test
  void definesEveryMethodOfTheService() {
    ServiceDefinition definition = service.definition();
    assertThat(definition.name()).isEqualTo("filesystem.Filesystem");
    assertThat(definition.methods().keySet())
        .containsExactlyInAnyOrder(
            "Stat",
            "MakeDir",
            "Move",
            "ListDir",
            "Remove",
            "WatchDir",
            "CreateWatcher",
            "GetWatcherEvents",
            "RemoveWatcher");
    assertThat(java.util.Objects.requireNonNull(definition.method("WatchDir")).kind())
        .isEqualTo(ServiceDefinition.Kind.SERVER_STREAMING);
    assertThat(java.util.Objects.requireNonNull(definition.method("Stat")).kind())
        .isEqualTo(ServiceDefinition.Kind.UNARY);
  }

  // --- Stat ---

  @Test
  void statDescribesAPath() throws IOException {
    Path file = Files.writeString(dir.resolve("a.txt"), "abc");
    EntryInfo entry = service.stat(stat(file.toString()), asRoot()).getEntry();
    assertThat(entry.getPath()).isEqualTo(file.toString());
    assertThat(entry.getSize()).isEqualTo(3);
    assertThat(entry.getType()).isEqualTo(FileType.FILE_TYPE_FILE);
  }

  @Test
  void statOfAMissingPathIsNotFound() {
    Path missing = dir.resolve("missing");
    assertConnectError(
        () -> service.stat(stat(missing.toString()), asRoot()),
        ConnectCode.NOT_FOUND,
        "path '" + missing + "' does not exist");
  }

  @Test
  void anUnknownUserIsUnauthenticated() {
    assertConnectError(
        () -> service.stat(stat("/"), FakeCallContext.create().user("no-such-user-xyz")),
        ConnectCode.UNAUTHENTICATED,
        "invalid username: 'no-such-user-xyz'");
  }

  // --- path rules ---

  @Test
  void pathsResolveAgainstTheUsersHome() throws IOException {
    Path home = user().home();
    Path file = Files.writeString(home.resolve("rel.txt"), "x");
    try {
      assertThat(service.stat(stat("rel.txt"), asUser()).getEntry().getPath())
          .isEqualTo(file.toString());
      assertThat(service.stat(stat("~/rel.txt"), asUser()).getEntry().getPath())
          .isEqualTo(file.toString());
      assertThat(service.stat(stat("~"), asUser()).getEntry().getPath()).isEqualTo(home.toString());
      assertThat(service.stat(stat(""), asUser()).getEntry().getPath()).isEqualTo(home.toString());
    } finally {
      Files.delete(file);
    }
  }

  @Test
  void anEmptyPathIsTheDefaultWorkdir() throws IOException {
    Path workdir = Files.createDirectories(user().home().resolve("work"));
    try {
      settings.apply(new SandboxSettings.Init(null, null, null, "work", null));
      assertThat(service.stat(stat(""), asUser()).getEntry().getPath())
          .isEqualTo(workdir.toString());
    } finally {
      Files.delete(workdir);
    }
  }

  @Test
  void anotherUsersHomeIsRejected() {
    assertConnectError(
        () -> service.stat(stat("~root/x"), asUser()), ConnectCode.INVALID_ARGUMENT, "~root/x");
  }

  // --- MakeDir ---

  @Test
  void makeDirCreatesParentsOwnedByTheUser() throws IOException {
    Path target = dir.resolve("a/b/c");
    EntryInfo entry =
        service
            .makeDir(MakeDirRequest.newBuilder().setPath(target.toString()).build(), asUser())
            .getEntry();

    assertThat(entry.getType()).isEqualTo(FileType.FILE_TYPE_DIRECTORY);
    assertThat(entry.getPath()).isEqualTo(target.toString());
    assertThat(entry.getName()).isEqualTo("c");
    assertThat(entry.getOwner()).isEqualTo(user().name());
    for (Path created : List.of(dir.resolve("a"), dir.resolve("a/b"), target)) {
      assertThat(Files.getAttribute(created, "unix:uid")).isEqualTo(user().uid());
      assertThat(Files.getAttribute(created, "unix:gid")).isEqualTo(user().gid());
    }
    assertThat(Files.getAttribute(dir, "unix:uid")).isEqualTo(0); // existing parents keep theirs
  }

  @Test
  void makeDirRelativeToTheHome() throws IOException {
    service.makeDir(MakeDirRequest.newBuilder().setPath("made/here").build(), asUser());
    Path made = user().home().resolve("made/here");
    assertThat(made).isDirectory();
    assertThat(Files.getAttribute(made, "unix:uid")).isEqualTo(user().uid());
    service.remove(RemoveRequest.newBuilder().setPath("made").build(), asUser());
    assertThat(user().home().resolve("made")).doesNotExist();
  }

  @Test
  void makeDirOfAnExistingDirectoryIsAlreadyExists() {
    assertConnectError(
        () ->
            service.makeDir(MakeDirRequest.newBuilder().setPath(dir.toString()).build(), asRoot()),
        ConnectCode.ALREADY_EXISTS,
        "directory already exists: " + dir);
  }

  @Test
  void makeDirOverAFileIsInvalid() throws IOException {
    Path file = Files.writeString(dir.resolve("file"), "x");
    assertConnectError(
        () ->
            service.makeDir(MakeDirRequest.newBuilder().setPath(file.toString()).build(), asRoot()),
        ConnectCode.INVALID_ARGUMENT,
        "not a directory");
    assertConnectError(
        () ->
            service.makeDir(
                MakeDirRequest.newBuilder().setPath(file.resolve("below").toString()).build(),
                asRoot()),
        ConnectCode.INVALID_ARGUMENT,
        "is not a directory");
  }

  // --- Move ---

  @Test
  void moveCreatesTheDestinationsParentsOwnedByTheUser() throws IOException {
    Path source = Files.writeString(dir.resolve("src.txt"), "payload");
    Path destination = dir.resolve("x/y/dst.txt");

    EntryInfo entry =
        service
            .move(
                MoveRequest.newBuilder()
                    .setSource(source.toString())
                    .setDestination(destination.toString())
                    .build(),
                asUser())
            .getEntry();

    assertThat(entry.getPath()).isEqualTo(destination.toString());
    assertThat(entry.getName()).isEqualTo("dst.txt");
    assertThat(destination).hasContent("payload");
    assertThat(source).doesNotExist();
    assertThat(Files.getAttribute(dir.resolve("x"), "unix:uid")).isEqualTo(user().uid());
    assertThat(Files.getAttribute(dir.resolve("x/y"), "unix:uid")).isEqualTo(user().uid());
    assertThat(Files.getAttribute(destination, "unix:uid")).isEqualTo(0); // the file keeps its own
  }

  @Test
  void moveReplacesAnExistingFileLikeRename() throws IOException {
    Path source = Files.writeString(dir.resolve("new"), "new");
    Path destination = Files.writeString(dir.resolve("old"), "old");
    service.move(
        MoveRequest.newBuilder()
            .setSource(source.toString())
            .setDestination(destination.toString())
            .build(),
        asRoot());
    assertThat(destination).hasContent("new");
  }

  @Test
  void moveOfAMissingSourceIsNotFound() {
    Path missing = dir.resolve("missing");
    assertConnectError(
        () ->
            service.move(
                MoveRequest.newBuilder()
                    .setSource(missing.toString())
                    .setDestination(dir.resolve("new/place").toString())
                    .build(),
                asRoot()),
        ConnectCode.NOT_FOUND,
        "path '" + missing + "' does not exist");
    assertThat(dir.resolve("new")).doesNotExist();
  }

  // --- ListDir ---

  private void tree() throws IOException {
    Files.createDirectories(dir.resolve("t/d1/sub"));
    Files.createDirectories(dir.resolve("t/d2"));
    Files.writeString(dir.resolve("t/d1/sub/deep.txt"), "deep");
    Files.writeString(dir.resolve("t/d1/f1.txt"), "f1");
    Files.writeString(dir.resolve("t/top.txt"), "top");
    Files.createSymbolicLink(dir.resolve("t/link-d1"), dir.resolve("t/d1"));
  }

  private List<String> list(String path, int depth) {
    return service
        .listDir(ListDirRequest.newBuilder().setPath(path).setDepth(depth).build(), asRoot())
        .getEntriesList()
        .stream()
        .map(e -> Path.of(e.getPath()).toString())
        .toList();
  }

  @Test
  void listDirDepthZeroIsOne() throws IOException {
    tree();
    Path t = dir.resolve("t");
    List<String> expected =
        List.of(
            t.resolve("d1").toString(),
            t.resolve("d2").toString(),
            t.resolve("link-d1").toString(),
            t.resolve("top.txt").toString());
    assertThat(list(t.toString(), 0)).containsExactlyElementsOf(expected);
    assertThat(list(t.toString(), 1)).containsExactlyElementsOf(expected);
  }

  @Test
  void listDirWalksDepthFirstWithoutFollowingSymlinks() throws IOException {
    tree();
    Path t = dir.resolve("t");
    assertThat(list(t.toString(), 10))
        .containsExactly(
            t.resolve("d1").toString(),
            t.resolve("d1/f1.txt").toString(),
            t.resolve("d1/sub").toString(),
            t.resolve("d1/sub/deep.txt").toString(),
            t.resolve("d2").toString(),
            t.resolve("link-d1").toString(),
            t.resolve("top.txt").toString());
    assertThat(list(t.toString(), 2)).doesNotContain(t.resolve("d1/sub/deep.txt").toString());
  }

  @Test
  void listDirEntriesAreComplete() throws IOException {
    tree();
    List<EntryInfo> entries =
        service
            .listDir(
                ListDirRequest.newBuilder().setPath(dir.resolve("t").toString()).build(), asRoot())
            .getEntriesList();
    EntryInfo link =
        entries.stream().filter(e -> e.getName().equals("link-d1")).findFirst().orElseThrow();
    assertThat(link.getType()).isEqualTo(FileType.FILE_TYPE_DIRECTORY);
    assertThat(link.getPermissions()).isEqualTo("Lrwxrwxrwx");
    assertThat(link.getSymlinkTarget()).isEqualTo(dir.resolve("t/d1").toRealPath().toString());
    EntryInfo top =
        entries.stream().filter(e -> e.getName().equals("top.txt")).findFirst().orElseThrow();
    assertThat(top.getSize()).isEqualTo(3);
    assertThat(top.getOwner()).isEqualTo("root");
    assertThat(top.hasModifiedTime()).isTrue();
  }

  @Test
  void listingASymlinkedDirectoryReportsPathsBelowTheLink() throws IOException {
    tree();
    Path link = dir.resolve("t/link-d1");
    assertThat(list(link.toString(), 1))
        .containsExactly(link.resolve("f1.txt").toString(), link.resolve("sub").toString());
  }

  @Test
  void listDirErrors() throws IOException {
    tree();
    Path missing = dir.resolve("missing");
    assertConnectError(
        () -> list(missing.toString(), 1),
        ConnectCode.NOT_FOUND,
        "path '" + missing + "' does not exist");
    Path file = dir.resolve("t/top.txt");
    assertConnectError(
        () -> list(file.toString(), 1),
        ConnectCode.INVALID_ARGUMENT,
        "path is not a directory: " + file);
    Path loop = Files.createSymbolicLink(dir.resolve("loop"), Path.of("loop"));
    assertConnectError(
        () -> list(loop.toString(), 1), ConnectCode.FAILED_PRECONDITION, "cyclic symlink");
  }

  // --- Remove ---

  @Test
  void removeIsRecursiveAndDoesNotFollowSymlinks() throws IOException {
    Path outside = Files.createDirectories(dir.resolve("outside"));
    Files.writeString(outside.resolve("keep.txt"), "keep");
    Path doomed = Files.createDirectories(dir.resolve("doomed/a/b"));
    Files.writeString(doomed.resolve("f"), "x");
    Files.createSymbolicLink(dir.resolve("doomed/a/to-outside"), outside);

    service.remove(
        RemoveRequest.newBuilder().setPath(dir.resolve("doomed").toString()).build(), asRoot());

    assertThat(dir.resolve("doomed")).doesNotExist();
    assertThat(outside.resolve("keep.txt")).hasContent("keep");
  }

  @Test
  void removeOfASymlinkRemovesTheLinkOnly() throws IOException {
    Path target = Files.writeString(dir.resolve("target"), "x");
    Path link = Files.createSymbolicLink(dir.resolve("link"), target);
    service.remove(RemoveRequest.newBuilder().setPath(link.toString()).build(), asRoot());
    assertThat(Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)).isFalse();
    assertThat(target).exists();
  }

  @Test
  void removeOfAMissingPathSucceeds() {
    service.remove(
        RemoveRequest.newBuilder().setPath(dir.resolve("never/was").toString()).build(), asRoot());
  }

  @Test
  void aRefusedRemoveIsPermissionDenied() throws Exception {
    Path sealed = Files.createDirectories(dir.resolve("sealed"));
    Path file = Files.writeString(sealed.resolve("immutable"), "x");
    chattr("+i", file);
    try {
      assertConnectError(
          () ->
              service.remove(
                  RemoveRequest.newBuilder().setPath(sealed.toString()).build(), asRoot()),
          ConnectCode.PERMISSION_DENIED,
          "Operation not permitted");
      assertThat(file).exists();
    } finally {
      chattr("-i", file);
    }
  }

  private static void chattr(String flag, Path file) throws Exception {
    Process process =
        new ProcessBuilder("chattr", flag, file.toString()).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor()).as(output).isZero();
  }

  private static StatRequest stat(String path) {
    return StatRequest.newBuilder().setPath(path).build();
  }
}
