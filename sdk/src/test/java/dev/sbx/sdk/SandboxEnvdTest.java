package dev.sbx.sdk;

import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sbx.sdk.commands.CommandExitException;
import dev.sbx.sdk.commands.CommandHandle;
import dev.sbx.sdk.commands.CommandOptions;
import dev.sbx.sdk.commands.CommandResult;
import dev.sbx.sdk.commands.ProcessInfo;
import dev.sbx.sdk.files.EntryInfo;
import dev.sbx.sdk.files.FileType;
import dev.sbx.sdk.files.FilesystemEvent;
import dev.sbx.sdk.files.FilesystemEventType;
import dev.sbx.sdk.files.WatchHandle;
import dev.sbx.sdk.files.WatchOptions;
import dev.sbx.sdk.files.WriteEntry;
import dev.sbx.sdk.files.WriteInfo;
import dev.sbx.sdk.pty.PtyOptions;
import dev.sbx.sdk.pty.PtySize;
import dev.sbx.testing.EnvdLaunch;
import dev.sbx.testing.HostEnvd;
import dev.sbx.testing.HostUser;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Commands, PTY and files against a real envd on the host, in E2B's debug-mode style: no API, the
 * sandbox URL is envd's URL. envd runs as root here, so commands run as root unless a user is
 * given.
 */
class SandboxEnvdTest {
  private static @Nullable HostEnvd envd;
  private static @Nullable Sandbox sandbox;
  private static @Nullable Path scratch;
  private Path dir;

  @BeforeAll
  static void startEnvd() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    envd = HostEnvd.start(EnvdLaunch.detect(), port, Path.of("target/envd-sdk-" + port + ".log"));
    scratch = Files.createTempDirectory("sbx-sdk-");
    Files.setPosixFilePermissions(scratch, PosixFilePermissions.fromString("rwxrwxrwx"));
    sandbox =
        Sandbox.create(
            SandboxOptions.builder()
                .environment(Map.of())
                .debug(true)
                .sandboxUrl(envd.baseUrl().toString())
                .build());
  }

  @AfterAll
  static void stopEnvd() throws IOException {
    try {
      if (sandbox != null) {
        sandbox.close();
      }
      if (envd != null) {
        envd.close();
      }
    } finally {
      if (scratch != null) {
        deleteTree(scratch);
      }
    }
  }

  @BeforeEach
  void freshDirectory() throws IOException {
    dir = Files.createTempDirectory(scratch(), "t-");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
  }

  private static Sandbox sandbox() {
    if (sandbox == null) {
      throw new IllegalStateException("no sandbox");
    }
    return sandbox;
  }

  private static Path scratch() {
    if (scratch == null) {
      throw new IllegalStateException("no scratch directory");
    }
    return scratch;
  }

  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  // ---- commands

  @Test
  void runReturnsOutputAndStreamsIt() {
    List<String> out = new CopyOnWriteArrayList<>();
    List<String> err = new CopyOnWriteArrayList<>();
    CommandResult result =
        sandbox()
            .commands()
            .run(
                "echo hi; echo oops >&2",
                CommandOptions.builder().onStdout(out::add).onStderr(err::add).build());
    assertThat(result.exitCode()).isZero();
    assertThat(result.stdout()).isEqualTo("hi\n");
    assertThat(result.stderr()).isEqualTo("oops\n");
    assertThat(String.join("", out)).isEqualTo("hi\n");
    assertThat(String.join("", err)).isEqualTo("oops\n");
  }

  @Test
  void runUsesEnvsAndCwd() {
    CommandResult result =
        sandbox()
            .commands()
            .run(
                "echo \"$FOO\"; pwd",
                CommandOptions.builder().env("FOO", "bar baz").cwd(dir.toString()).build());
    assertThat(result.stdout()).isEqualTo("bar baz\n" + dir + "\n");
  }

  @Test
  void nonZeroExitThrowsWithTheResult() {
    assertThatThrownBy(() -> sandbox().commands().run("echo out; echo bad >&2; exit 3"))
        .isInstanceOfSatisfying(
            CommandExitException.class,
            e -> {
              assertThat(e.exitCode()).isEqualTo(3);
              assertThat(e.stdout()).isEqualTo("out\n");
              assertThat(e.stderr()).isEqualTo("bad\n");
              assertThat(e).isInstanceOf(SandboxException.class);
            });
  }

  @Test
  void missingCwdIsInvalidArgument() {
    assertThatThrownBy(
            () ->
                sandbox()
                    .commands()
                    .run("pwd", CommandOptions.builder().cwd(dir + "/missing").build()))
        .isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining("does not exist");
  }

  @Test
  void timeoutKillsTheCommand() {
    CommandHandle handle =
        sandbox()
            .commands()
            .start("sleep 30", CommandOptions.builder().timeout(Duration.ofSeconds(1)).build());
    assertThatThrownBy(handle::waitFor).isInstanceOf(TimeoutException.class);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> sandbox().commands().list().stream().noneMatch(p -> p.pid() == handle.pid()));
  }

  @Test
  void backgroundCommandCanBeListedAndKilled() {
    CommandHandle handle = sandbox().commands().start("sleep 30");
    assertThat(handle.pid()).isPositive();
    List<ProcessInfo> processes = sandbox().commands().list();
    assertThat(processes)
        .anySatisfy(
            p -> {
              assertThat(p.pid()).isEqualTo(handle.pid());
              assertThat(p.cmd()).isEqualTo("/bin/bash");
              assertThat(p.args()).containsExactly("-l", "-c", "sleep 30");
            });
    assertThat(handle.exitCode()).isNull();
    assertThat(handle.kill()).isTrue();
    assertThatThrownBy(handle::waitFor)
        .isInstanceOfSatisfying(
            CommandExitException.class, e -> assertThat(e.exitCode()).isEqualTo(-1));
    assertThat(handle.exitCode()).isEqualTo(-1);
    await().atMost(Duration.ofSeconds(60)).until(() -> !sandbox().commands().kill(handle.pid()));
  }

  @Test
  void killOfAnUnknownPidIsFalse() {
    assertThat(sandbox().commands().kill(999_999)).isFalse();
  }

  @Test
  void stdinCanBeWrittenAndClosed() {
    CommandHandle handle =
        sandbox().commands().start("cat; echo done", CommandOptions.builder().stdin(true).build());
    handle.sendStdin("abc\n");
    sandbox().commands().sendStdin(handle.pid(), "déf\n");
    await().atMost(Duration.ofSeconds(20)).until(() -> handle.stdout().equals("abc\ndéf\n"));
    sandbox().commands().closeStdin(handle.pid());
    assertThat(handle.waitFor().stdout()).isEqualTo("abc\ndéf\ndone\n");
  }

  @Test
  void connectAttachesToARunningProcess() {
    Path go = dir.resolve("go");
    CommandHandle started =
        sandbox()
            .commands()
            .start("while [ ! -e " + go + " ]; do sleep 0.1; done; echo attached; exit 7");
    List<String> seen = new CopyOnWriteArrayList<>();
    CommandHandle attached =
        sandbox()
            .commands()
            .connect(started.pid(), CommandOptions.builder().onStdout(seen::add).build());
    assertThat(attached.pid()).isEqualTo(started.pid());
    sandbox().files().write(go.toString(), "");
    assertThatThrownBy(attached::waitFor)
        .isInstanceOfSatisfying(
            CommandExitException.class, e -> assertThat(e.exitCode()).isEqualTo(7));
    assertThat(String.join("", seen)).isEqualTo("attached\n");
    assertThat(attached.stdout()).isEqualTo("attached\n");
    assertThatThrownBy(() -> sandbox().commands().connect(999_999))
        .isInstanceOf(NotFoundException.class);
  }

  @Test
  void disconnectLeavesTheProcessRunning() {
    CommandHandle handle = sandbox().commands().start("sleep 30");
    handle.disconnect();
    assertThatThrownBy(handle::waitFor)
        .isExactlyInstanceOf(SandboxException.class)
        .hasMessageContaining("disconnected from process " + handle.pid());
    assertThat(sandbox().commands().list()).anyMatch(p -> p.pid() == handle.pid());
    assertThat(sandbox().commands().kill(handle.pid())).isTrue();
  }

  @Test
  void disconnectingASandboxEndsItsStreamsAndLeavesOtherSandboxesWorking() {
    Sandbox other =
        Sandbox.create(
            SandboxOptions.builder()
                .environment(Map.of())
                .debug(true)
                .sandboxUrl(requireNonNull(envd).baseUrl().toString())
                .build());
    CommandHandle handle = other.commands().start("sleep 30");

    other.disconnect();

    assertThatThrownBy(handle::waitFor).isInstanceOf(SandboxException.class);
    // the HTTP connections are shared by every sandbox: the other one's keep working
    assertThat(sandbox().commands().run("echo still here").stdout()).isEqualTo("still here\n");
    assertThat(sandbox().commands().kill(handle.pid())).isTrue();
  }

  @Test
  void commandsRunAsTheGivenUser() {
    // throwaway users need root (envd switches users only as root, too)
    org.junit.jupiter.api.Assumptions.assumeTrue(
        "root".equals(System.getProperty("user.name")), "needs root");
    try (HostUser user = HostUser.throwaway()) {
      CommandResult result =
          sandbox()
              .commands()
              .run("whoami; echo $HOME", CommandOptions.builder().user(user.name()).build());
      assertThat(result.stdout()).isEqualTo(user.name() + "\n" + user.home() + "\n");
      WriteInfo written = sandbox().files().write("owned.txt", "mine", user.name());
      assertThat(written.path()).isEqualTo(user.home() + "/owned.txt");
      EntryInfo info = sandbox().files().getInfo("owned.txt", user.name());
      assertThat(info.owner()).isEqualTo(user.name());
      assertThat(sandbox().files().read(user.home() + "/owned.txt")).isEqualTo("mine");
    }
    assertThatThrownBy(
            () ->
                sandbox()
                    .commands()
                    .run("true", CommandOptions.builder().user("no-such-user-sbx").build()))
        .isInstanceOf(AuthenticationException.class);
  }

  // ---- pty

  @Test
  void ptyRunsAnInteractiveShell() {
    ByteArrayOutputStream output = new ByteArrayOutputStream();
    CommandHandle terminal =
        sandbox()
            .pty()
            .create(
                PtyOptions.builder(80, 24)
                    .cwd(dir.toString())
                    .onData(
                        data -> {
                          synchronized (output) {
                            output.writeBytes(data);
                          }
                        })
                    .build());
    sandbox().pty().sendInput(terminal.pid(), "echo $((6*7)) $TERM\n");
    await().atMost(Duration.ofSeconds(20)).until(() -> text(output).contains("42 xterm-256color"));
    sandbox().pty().resize(terminal.pid(), new PtySize(100, 30));
    sandbox().pty().sendInput(terminal.pid(), "stty size\n");
    await().atMost(Duration.ofSeconds(20)).until(() -> text(output).contains("30 100"));
    assertThat(sandbox().pty().kill(terminal.pid())).isTrue();
    assertThatThrownBy(terminal::waitFor).isInstanceOf(CommandExitException.class);
    assertThat(sandbox().pty().kill(terminal.pid())).isFalse();
  }

  private static String text(ByteArrayOutputStream output) {
    synchronized (output) {
      return output.toString(StandardCharsets.UTF_8);
    }
  }

  // ---- files

  @Test
  void writeAndReadInEveryForm() throws IOException {
    String text = dir + "/sub/a.txt";
    WriteInfo written = sandbox().files().write(text, "héllo");
    assertThat(written).isEqualTo(new WriteInfo("a.txt", FileType.FILE, text));
    assertThat(sandbox().files().read(text)).isEqualTo("héllo");
    assertThat(Files.readString(Path.of(text))).isEqualTo("héllo");

    byte[] binary = new byte[70_000];
    for (int i = 0; i < binary.length; i++) {
      binary[i] = (byte) (i * 31);
    }
    sandbox().files().write(dir + "/b.bin", binary);
    assertThat(sandbox().files().readBytes(dir + "/b.bin")).isEqualTo(binary);
    try (InputStream in = sandbox().files().readStream(dir + "/b.bin")) {
      assertThat(in.readAllBytes()).isEqualTo(binary);
    }
    sandbox().files().write(dir + "/c.bin", new ByteArrayInputStream(binary));
    assertThat(Files.readAllBytes(dir.resolve("c.bin"))).isEqualTo(binary);

    sandbox().files().write(dir + "/empty", new byte[0]);
    assertThat(sandbox().files().readBytes(dir + "/empty")).isEmpty();
  }

  @Test
  void writeSeveralFilesAtOnce() throws IOException {
    List<WriteInfo> written =
        sandbox()
            .files()
            .write(
                List.of(
                    WriteEntry.of(dir + "/one.txt", "1"),
                    WriteEntry.of(dir + "/ünï back\\slash.txt", "3"),
                    WriteEntry.of(
                        dir + "/deep/two \"q\".txt", "2".getBytes(StandardCharsets.UTF_8))));
    assertThat(written)
        .extracting(WriteInfo::path)
        .containsExactlyInAnyOrder(
            dir + "/one.txt", dir + "/ünï back\\slash.txt", dir + "/deep/two \"q\".txt");
    assertThat(Files.readString(dir.resolve("ünï back\\slash.txt"))).isEqualTo("3");
    assertThat(Files.readString(dir.resolve("one.txt"))).isEqualTo("1");
    assertThat(Files.readString(dir.resolve("deep/two \"q\".txt"))).isEqualTo("2");
    assertThat(sandbox().files().write(List.of())).isEmpty();
    assertThatThrownBy(() -> sandbox().files().write(dir + "/a\nb", "x"))
        .isInstanceOf(InvalidArgumentException.class);
  }

  @Test
  void listExistsInfoMakeDirRenameRemove() throws IOException {
    sandbox().files().write(dir + "/x/y/z.txt", "z");
    assertThat(sandbox().files().list(dir.toString()))
        .extracting(EntryInfo::name, EntryInfo::type)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("x", FileType.DIR));
    assertThat(sandbox().files().list(dir.toString(), 3))
        .extracting(EntryInfo::path)
        .containsExactlyInAnyOrder(dir + "/x", dir + "/x/y", dir + "/x/y/z.txt");
    assertThatThrownBy(() -> sandbox().files().list(dir.toString(), 0))
        .isInstanceOf(InvalidArgumentException.class);

    assertThat(sandbox().files().exists(dir + "/x/y/z.txt")).isTrue();
    assertThat(sandbox().files().exists(dir + "/nope")).isFalse();
    EntryInfo info = sandbox().files().getInfo(dir + "/x/y/z.txt");
    assertThat(info.size()).isEqualTo(1);
    assertThat(info.type()).isEqualTo(FileType.FILE);
    assertThat(info.owner()).isEqualTo("root");
    assertThat(info.permissions()).startsWith("-rw");

    assertThat(sandbox().files().makeDir(dir + "/m/n")).isTrue();
    assertThat(sandbox().files().makeDir(dir + "/m/n")).isFalse();
    assertThat(Files.isDirectory(dir.resolve("m/n"))).isTrue();

    EntryInfo moved = sandbox().files().rename(dir + "/x/y/z.txt", dir + "/m/z2.txt");
    assertThat(moved.path()).isEqualTo(dir + "/m/z2.txt");
    assertThat(Files.exists(dir.resolve("x/y/z.txt"))).isFalse();

    sandbox().files().remove(dir + "/m");
    assertThat(Files.exists(dir.resolve("m"))).isFalse();
    sandbox().files().remove(dir + "/m");
  }

  @Test
  void fileErrorsAreTyped() {
    assertThatThrownBy(() -> sandbox().files().read(dir + "/missing.txt"))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining("does not exist");
    assertThatThrownBy(() -> sandbox().files().read(dir.toString()))
        .isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> sandbox().files().getInfo(dir + "/missing"))
        .isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> sandbox().files().rename(dir + "/missing", dir + "/other"))
        .isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> sandbox().files().list(dir + "/missing"))
        .isInstanceOf(NotFoundException.class);
  }

  @Test
  void watchDirReportsChangesUntilStopped() throws Exception {
    List<FilesystemEvent> events = new CopyOnWriteArrayList<>();
    List<@Nullable Throwable> exits = new CopyOnWriteArrayList<>();
    Files.createDirectories(dir.resolve("inner"));
    WatchHandle watch =
        sandbox()
            .files()
            .watchDir(
                dir.toString(),
                events::add,
                WatchOptions.builder().recursive(true).onExit(exits::add).build());
    Files.writeString(dir.resolve("top.txt"), "1");
    Files.writeString(dir.resolve("inner/deep.txt"), "2");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                events.stream()
                        .anyMatch(
                            e ->
                                e.name().equals("top.txt")
                                    && e.type() == FilesystemEventType.CREATE)
                    && events.stream().anyMatch(e -> e.name().equals("inner/deep.txt")));
    watch.stop();
    int seen = events.size();
    Files.writeString(dir.resolve("after.txt"), "3");
    Thread.sleep(500);
    assertThat(events).hasSize(seen);
    assertThat(exits).isEmpty();
  }

  @Test
  void watchEndsWithItsTimeout() {
    List<@Nullable Throwable> exits = new CopyOnWriteArrayList<>();
    // a first watch warms envd up, so that the short deadline below is not spent loading classes
    sandbox().files().watchDir(dir.toString(), e -> {}).stop();
    sandbox()
        .files()
        .watchDir(
            dir.toString(),
            e -> {},
            WatchOptions.builder().timeout(Duration.ofSeconds(3)).onExit(exits::add).build());
    await().atMost(Duration.ofSeconds(20)).until(() -> !exits.isEmpty());
    assertThat(exits.get(0)).isInstanceOf(TimeoutException.class);
  }

  @Test
  void watchOfAMissingDirectoryFails() {
    assertThatThrownBy(() -> sandbox().files().watchDir(dir + "/missing", e -> {}))
        .isInstanceOf(SandboxException.class);
  }

  @Test
  void healthAndUnsignedUrlsInDebugMode() throws Exception {
    assertThat(sandbox().isRunning()).isTrue();
    assertThat(sandbox().files().downloadUrl(dir + "/a b.txt", null, null))
        .isEqualTo(envdUrl() + "/files?path=" + dir.toString().replace("/", "%2F") + "%2Fa+b.txt");
    assertThatThrownBy(() -> sandbox().files().downloadUrl("/x", null, Duration.ofSeconds(10)))
        .isInstanceOf(InvalidArgumentException.class);
  }

  private static String envdUrl() {
    if (envd == null) {
      throw new IllegalStateException("no envd");
    }
    return envd.baseUrl().toString();
  }
}
