package dev.sbx.envd.process;

import static dev.sbx.envd.ConnectAssertions.assertConnectError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.google.protobuf.ByteString;
import dev.sbx.connect.ConnectCode;
import dev.sbx.connect.ConnectException;
import dev.sbx.connect.RequestStream;
import dev.sbx.envd.EnvdConfig;
import dev.sbx.envd.FakeCallContext;
import dev.sbx.envd.OpenDescriptors;
import dev.sbx.envd.SandboxSettings;
import dev.sbx.envd.linux.ChildProcess;
import dev.sbx.envd.user.RequestUsers;
import dev.sbx.envd.user.UserDirectory;
import dev.sbx.proto.process.CloseStdinRequest;
import dev.sbx.proto.process.ConnectRequest;
import dev.sbx.proto.process.ConnectResponse;
import dev.sbx.proto.process.ListRequest;
import dev.sbx.proto.process.PTY;
import dev.sbx.proto.process.ProcessConfig;
import dev.sbx.proto.process.ProcessEvent;
import dev.sbx.proto.process.ProcessInfo;
import dev.sbx.proto.process.ProcessInput;
import dev.sbx.proto.process.ProcessSelector;
import dev.sbx.proto.process.SendInputRequest;
import dev.sbx.proto.process.SendSignalRequest;
import dev.sbx.proto.process.Signal;
import dev.sbx.proto.process.StartRequest;
import dev.sbx.proto.process.StartResponse;
import dev.sbx.proto.process.StreamInputRequest;
import dev.sbx.proto.process.UpdateRequest;
import dev.sbx.testing.HostUser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The process service against real processes (run as root, as envd does). */
class ProcessServiceTest {
  private static final Duration RETENTION = Duration.ofSeconds(2);

  SandboxSettings settings;
  ProcessService service;

  @BeforeEach
  void setUp() {
    assumeThat(System.getProperty("user.name")).as("envd runs as root").isEqualTo("root");
    settings = new SandboxSettings(Map.of("E2B_SANDBOX", "true", "E2B_SANDBOX_ID", "sbx-test"));
    service =
        new ProcessService(
            settings,
            new RequestUsers(UserDirectory.system(), settings),
            EnvdConfig.defaultExec(),
            RETENTION,
            exitWatch());
  }

  /** How the service notices exits; {@link ProcessServiceWithoutPidfdTest} forces polling. */
  ChildProcess.ExitWatch exitWatch() {
    return ChildProcess.ExitWatch.PIDFD;
  }

  @AfterEach
  void killLeftovers() throws Exception {
    if (service == null) {
      return;
    }
    for (SandboxProcess process : service.table().all()) {
      process.signal(9);
    }
    awaitTrue("every process ended", () -> service.table().running().isEmpty());
  }

  // ---- output, exit status ----

  @Test
  void runsACommandAndStreamsStartDataEnd() throws Exception {
    StreamCall<StartResponse> call = start(bash("echo hello"), context());
    int pid = call.awaitStart();
    StreamCall.Result result = call.finish();

    assertThat(pid).isPositive();
    assertThat(result.stdout()).isEqualTo("hello\n");
    assertThat(result.stderr()).isEmpty();
    ProcessEvent.EndEvent end = result.end();
    assertThat(end.getExitCode()).isZero();
    assertThat(end.getExited()).isTrue();
    assertThat(end.getStatus()).isEqualTo("exit status 0");
    assertThat(end.hasError()).isFalse();
  }

  @Test
  void reportsStderrAndNonZeroExit() throws Exception {
    StreamCall<StartResponse> call = start(bash("echo oops >&2; exit 1"), context());
    call.awaitStart();
    StreamCall.Result result = call.finish();

    assertThat(result.stderr()).isEqualTo("oops\n");
    assertThat(result.end().getExitCode()).isEqualTo(1);
    assertThat(result.end().getExited()).isTrue();
    assertThat(result.end().getStatus()).isEqualTo("exit status 1");
    assertThat(result.end().getError()).isEqualTo("exit status 1");
  }

  @Test
  void exit137IsAnExitNotASignal() throws Exception {
    StreamCall<StartResponse> call = start(bash("exit 137"), context());
    call.awaitStart();
    ProcessEvent.EndEvent end = call.finish().end();

    assertThat(end.getExitCode()).isEqualTo(137);
    assertThat(end.getExited()).isTrue();
    assertThat(end.getStatus()).isEqualTo("exit status 137");
  }

  @Test
  void sigkillReportsMinusOneAndSignalKilled() throws Exception {
    StreamCall<StartResponse> call = start(bash("sleep 100"), context());
    int pid = call.awaitStart();
    service.sendSignal(signal(pid, Signal.SIGNAL_SIGKILL), context());
    ProcessEvent.EndEvent end = call.finish().end();

    assertThat(end.getExitCode()).isEqualTo(-1);
    assertThat(end.getExited()).isFalse();
    assertThat(end.getStatus()).isEqualTo("signal: killed");
    assertThat(end.getError()).isEqualTo("signal: killed");
  }

  @Test
  void sigtermReportsSignalTerminated() throws Exception {
    StreamCall<StartResponse> call = start(command("sleep", "100"), context());
    int pid = call.awaitStart();
    service.sendSignal(signal(pid, Signal.SIGNAL_SIGTERM), context());
    ProcessEvent.EndEvent end = call.finish().end();

    assertThat(end.getExitCode()).isEqualTo(-1);
    assertThat(end.getExited()).isFalse();
    assertThat(end.getStatus()).isEqualTo("signal: terminated");
  }

  @Test
  void aMissingCommandExitsWith127() throws Exception {
    StreamCall<StartResponse> call = start(command("no-such-command-sbx"), context());
    call.awaitStart();
    StreamCall.Result result = call.finish();

    assertThat(result.end().getExitCode()).isEqualTo(127);
    assertThat(result.stderr()).contains("no-such-command-sbx");
  }

  @Test
  void commandsAreFoundAndRunAsExecvpDoes(@TempDir Path dir) throws Exception {
    // found in the request's PATH (a directory that is not in the default one)
    Path tool = dir.resolve("sbx-tool");
    Files.writeString(tool, "#!/bin/sh\necho tool \"$@\"\n");
    Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
    StartRequest inPath =
        StartRequest.newBuilder()
            .setProcess(
                ProcessConfig.newBuilder()
                    .setCmd("sbx-tool")
                    .addArgs("a")
                    .putEnvs("PATH", "/nonexistent:" + dir + ":/usr/bin:/bin"))
            .setStdin(false)
            .build();
    StreamCall.Result found = start(inPath, context()).finish();
    assertThat(found.stdout()).isEqualTo("tool a\n");
    assertThat(found.end().getExitCode()).isZero();

    // an executable file without "#!" is run by /bin/sh
    Path script = dir.resolve("no-shebang");
    Files.writeString(script, "echo plain \"$1\"\nexit 7\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    StreamCall.Result plain = start(command(script.toString(), "b"), context()).finish();
    assertThat(plain.stdout()).isEqualTo("plain b\n");
    assertThat(plain.end().getExitCode()).isEqualTo(7);

    // a file that is not executable: 126, as a shell says
    Path data = dir.resolve("data");
    Files.writeString(data, "not a program\n");
    StreamCall.Result denied = start(command(data.toString()), context()).finish();
    assertThat(denied.end().getExitCode()).isEqualTo(126);
    assertThat(denied.stderr()).contains("envd-exec: " + data + ": Permission denied");
  }

  @Test
  void theReportedPidIsTheCommandItselfWithRaisedOomScore() throws Exception {
    StreamCall<StartResponse> call = start(command("sleep", "100"), context());
    int pid = call.awaitStart();

    awaitTrue(
        "the wrapper exec'd into sleep",
        () -> readOrEmpty(Path.of("/proc/" + pid + "/comm")).equals("sleep\n"));
    assertThat(Files.readString(Path.of("/proc/" + pid + "/oom_score_adj"))).isEqualTo("100\n");
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ", -1);
    assertThat(fields[3]).as("session id: a session of its own").isEqualTo(Integer.toString(pid));
    service.sendSignal(signal(pid, Signal.SIGNAL_SIGKILL), context());
    call.finish().end();
  }

  @Test
  void largeOutputComesInChunksOfAtMost32KiB() throws Exception {
    StreamCall<StartResponse> call =
        start(bash("head -c 300000 /dev/zero | tr '\\0' x"), context());
    call.awaitStart();
    StreamCall.Result result = call.finish();

    assertThat(result.stdout()).hasSize(300_000);
    for (ProcessEvent event : result.events()) {
      if (event.hasData()) {
        assertThat(event.getData().getStdout().size()).isBetween(1, 32 * 1024);
      }
    }
  }

  // ---- environment, cwd, users ----

  @Test
  void environmentAndWorkingDirectory() throws Exception {
    StartRequest request =
        StartRequest.newBuilder()
            .setProcess(
                ProcessConfig.newBuilder()
                    .setCmd("/bin/bash")
                    .addAllArgs(
                        List.of(
                            "-c",
                            "echo $FOO; pwd; echo $HOME $USER $LOGNAME; echo $E2B_SANDBOX"
                                + " $E2B_SANDBOX_ID; echo $PATH"))
                    .putEnvs("FOO", "bar")
                    .putEnvs("E2B_SANDBOX_ID", "overridden")
                    .setCwd("/tmp"))
            .setStdin(false)
            .build();
    StreamCall<StartResponse> call = start(request, context());
    call.awaitStart();
    StreamCall.Result result = call.finish();

    assertThat(result.stdout())
        .isEqualTo("bar\n/tmp\n/root root root\ntrue overridden\n" + Launch.DEFAULT_PATH + "\n");
    assertThat(result.end().getExitCode()).isZero();
  }

  @Test
  void defaultWorkdirIsHomeThenInitsWorkdir() throws Exception {
    StreamCall<StartResponse> call = start(command("pwd"), context());
    call.awaitStart();
    assertThat(call.finish().stdout()).isEqualTo("/root\n");

    settings.apply(new SandboxSettings.Init(Map.of("FROM_INIT", "1"), null, null, "/tmp", null));
    call = start(bash("pwd; echo $FROM_INIT"), context());
    call.awaitStart();
    assertThat(call.finish().stdout()).isEqualTo("/tmp\n1\n");
  }

  @Test
  void runsAsTheRequestsUserWithItsGroupsAndHome() throws Exception {
    try (HostUser hostUser = HostUser.throwawayWithSupplementaryGroup()) {
      String user = hostUser.name();
      StreamCall<StartResponse> call =
          start(
              bash(
                  "id -u; id -g; id -G; echo $HOME $USER $LOGNAME; pwd; touch made.txt;"
                      + " stat -c %U:%G made.txt; grep -E '^(Uid|Gid)' /proc/self/status;"
                      + " grep CapEff /proc/self/status"),
              context().user(user));
      call.awaitStart();
      StreamCall.Result result = call.finish();

      var sandboxUser = UserDirectory.system().byName(user).orElseThrow();
      String[] lines = result.stdout().split("\n", -1);
      assertThat(result.end().getExitCode()).as(result.stderr()).isZero();
      assertThat(lines[0]).isEqualTo(Integer.toString(sandboxUser.uid()));
      assertThat(lines[1]).isEqualTo(Integer.toString(sandboxUser.gid()));
      assertThat(Arrays.stream(lines[2].split(" ", -1)).map(Integer::valueOf).sorted().toList())
          .isEqualTo(sandboxUser.groups().stream().sorted().toList())
          .hasSize(2);
      String home = "/home/" + user;
      assertThat(lines[3]).isEqualTo(home + " " + user + " " + user);
      assertThat(lines[4]).isEqualTo(home);
      assertThat(lines[5]).isEqualTo(user + ":" + user);
      int uid = sandboxUser.uid();
      assertThat(lines[6]).matches("Uid:\\s+" + uid + "\\s+" + uid + "\\s+" + uid + "\\s+" + uid);
      assertThat(lines[8]).matches("CapEff:\\s+0+");
    }
  }

  @Test
  void unknownUserIsUnauthenticated() {
    assertConnectError(
        () -> start(bash("true"), context().user("nosuchuser")).awaitFailureRethrown(),
        ConnectCode.UNAUTHENTICATED,
        "invalid username: 'nosuchuser'");
    assertConnectError(
        () -> service.list(ListRequest.getDefaultInstance(), context().user("nosuchuser")),
        ConnectCode.UNAUTHENTICATED,
        "invalid username: 'nosuchuser'");
  }

  @Test
  void missingCwdIsInvalidArgument() {
    StartRequest request =
        StartRequest.newBuilder()
            .setProcess(ProcessConfig.newBuilder().setCmd("pwd").setCwd("/no/such/dir"))
            .build();
    assertConnectError(
        () -> start(request, context()).awaitFailureRethrown(),
        ConnectCode.INVALID_ARGUMENT,
        "cwd '/no/such/dir' does not exist");
  }

  // ---- stdin ----

  @Test
  void stdinIsOpenByDefaultAndCloseStdinEndsIt() throws Exception {
    StartRequest request =
        StartRequest.newBuilder().setProcess(ProcessConfig.newBuilder().setCmd("cat")).build();
    StreamCall<StartResponse> call = start(request, context());
    int pid = call.awaitStart();

    service.sendInput(stdin(pid, "hello "), context());
    service.sendInput(stdin(pid, "world"), context());
    service.closeStdin(CloseStdinRequest.newBuilder().setProcess(byPid(pid)).build(), context());
    StreamCall.Result result = call.finish();

    assertThat(result.stdout()).isEqualTo("hello world");
    assertThat(result.end().getExitCode()).isZero();
  }

  @Test
  void streamInputWritesInOrder() throws Exception {
    StreamCall<StartResponse> call =
        start(
            StartRequest.newBuilder()
                .setProcess(ProcessConfig.newBuilder().setCmd("cat"))
                .setTag("catter")
                .setStdin(true)
                .build(),
            context());
    int pid = call.awaitStart();
    Deque<StreamInputRequest> messages = new ArrayDeque<>();
    messages.add(
        StreamInputRequest.newBuilder()
            .setStart(
                StreamInputRequest.StartEvent.newBuilder()
                    .setProcess(ProcessSelector.newBuilder().setTag("catter")))
            .build());
    for (String part : List.of("a", "b", "c")) {
      messages.add(
          StreamInputRequest.newBuilder()
              .setData(
                  StreamInputRequest.DataEvent.newBuilder()
                      .setInput(ProcessInput.newBuilder().setStdin(ByteString.copyFromUtf8(part))))
              .build());
    }
    RequestStream<StreamInputRequest> requests = messages::poll;
    service.streamInput(requests, context());
    service.closeStdin(CloseStdinRequest.newBuilder().setProcess(byPid(pid)).build(), context());

    assertThat(call.finish().stdout()).isEqualTo("abc");
  }

  @Test
  void withoutStdinTheProcessReadsNothingAndInputIsRefused() throws Exception {
    StreamCall<StartResponse> call = start(bash("cat; echo done; sleep 100"), context());
    int pid = call.awaitStart();
    awaitTrue("cat read end of file", () -> contains(call, "done"));

    assertConnectError(
        () -> service.sendInput(stdin(pid, "x"), context()), ConnectCode.INTERNAL, "stdin");
    assertConnectError(
        () -> service.sendInput(pty(pid, "x"), context()), ConnectCode.INTERNAL, "tty");
    service.sendSignal(signal(pid, Signal.SIGNAL_SIGKILL), context());
    call.finish().end();
  }

  // ---- lifetime, keepalive, streams ----

  @Test
  void connectTimeoutIsTheProcessLifetime() throws Exception {
    StreamCall<StartResponse> call =
        start(command("sleep", "100"), context().timeout(Duration.ofMillis(700)));
    int pid = call.awaitStart();
    long started = System.nanoTime();

    assertConnectError(
        call::awaitFailureRethrown, ConnectCode.DEADLINE_EXCEEDED, "context deadline exceeded");
    awaitTrue("killed at its deadline", () -> service.table().running().isEmpty());
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));

    StreamCall<ConnectResponse> late = connect(byPid(pid), context());
    assertThat(late.awaitStart()).isEqualTo(pid);
    assertThat(late.finish().end().getStatus()).isEqualTo("signal: killed");
  }

  @Test
  void droppingTheStreamDoesNotKillTheProcess() throws Exception {
    StreamCall<StartResponse> call =
        start(bash("while :; do echo tick; sleep 0.05; done"), context());
    int pid = call.awaitStart();
    call.cancel();
    call.awaitFailure();

    assertThat(service.table().byPid(pid).orElseThrow().isRunning()).isTrue();
    assertThat(Path.of("/proc/" + pid)).exists();
    StreamCall<ConnectResponse> again = connect(byPid(pid), context());
    assertThat(again.awaitStart()).isEqualTo(pid);
    assertThat(again.next().hasData()).isTrue();
    service.sendSignal(signal(pid, Signal.SIGNAL_SIGKILL), context());
    assertThat(again.finish().end().getStatus()).isEqualTo("signal: killed");
  }

  @Test
  void keepaliveAfterEachIdleInterval() throws Exception {
    StreamCall<StartResponse> call =
        start(
            command("/bin/bash", "-c", "sleep 2.6; echo late"),
            context().header("Keepalive-Ping-Interval", "1"));
    call.awaitStart();
    StreamCall.Result result = call.finish();

    assertThat(result.count(ProcessEvent.EventCase.KEEPALIVE)).isBetween(2L, 3L);
    assertThat(result.stdout()).isEqualTo("late\n");
    assertThat(result.end().getExitCode()).isZero();
  }

  @Test
  void connectReattachesByPidAndTagAndSeesAFinishedProcessForAWhile() throws Exception {
    StreamCall<StartResponse> call =
        start(
            StartRequest.newBuilder()
                .setProcess(
                    ProcessConfig.newBuilder()
                        .setCmd("/bin/bash")
                        .addArgs("-c")
                        .addArgs("read line; echo got-$line"))
                .setTag("reader")
                .build(),
            context());
    int pid = call.awaitStart();

    StreamCall<ConnectResponse> byTag =
        connect(ProcessSelector.newBuilder().setTag("reader").build(), context());
    assertThat(byTag.awaitStart()).isEqualTo(pid);
    StreamCall<ConnectResponse> byPid = connect(byPid(pid), context());
    assertThat(byPid.awaitStart()).isEqualTo(pid);

    service.sendInput(stdin(pid, "x\n"), context());
    for (StreamCall<?> stream : List.of(call, byTag, byPid)) {
      StreamCall.Result result = stream.finish();
      assertThat(result.stdout()).isEqualTo("got-x\n");
      assertThat(result.end().getExitCode()).isZero();
    }

    StreamCall<ConnectResponse> late = connect(byPid(pid), context());
    assertThat(late.awaitStart()).isEqualTo(pid);
    StreamCall.Result lateResult = late.finish();
    assertThat(lateResult.events()).hasSize(1);
    assertThat(lateResult.end().getStatus()).isEqualTo("exit status 0");

    awaitTrue("evicted after the retention time", () -> service.table().byPid(pid).isEmpty());
    assertConnectError(
        () -> connect(byPid(pid), context()).awaitFailureRethrown(),
        ConnectCode.NOT_FOUND,
        "process with pid " + pid + " not found");
  }

  @Test
  void listShowsRunningProcessesWithConfigAndTag() throws Exception {
    StartRequest request =
        StartRequest.newBuilder()
            .setProcess(ProcessConfig.newBuilder().setCmd("sleep").addArgs("100").putEnvs("A", "1"))
            .setTag("sleeper")
            .setStdin(false)
            .build();
    StreamCall<StartResponse> call = start(request, context());
    int pid = call.awaitStart();
    StreamCall<StartResponse> quick = start(command("true"), context());
    int quickPid = quick.awaitStart();
    quick.finish().end();

    List<ProcessInfo> listed =
        service.list(ListRequest.getDefaultInstance(), context()).getProcessesList();
    assertThat(listed)
        .containsExactly(
            ProcessInfo.newBuilder()
                .setConfig(request.getProcess())
                .setPid(pid)
                .setTag("sleeper")
                .build());
    assertThat(listed).noneMatch(p -> p.getPid() == quickPid);
    service.sendSignal(
        SendSignalRequest.newBuilder()
            .setProcess(ProcessSelector.newBuilder().setTag("sleeper"))
            .setSignal(Signal.SIGNAL_SIGKILL)
            .build(),
        context());
    call.finish().end();
  }

  // ---- PTY ----

  @Test
  void ptyIsTheControllingTerminalWithTheRequestedSize() throws Exception {
    StreamCall<StartResponse> call =
        start(
            ptyRequest(100, 30, "/bin/bash", "-c", "tty; stty size; cat /proc/$$/stat"), context());
    call.awaitStart();
    StreamCall.Result result = call.finish();

    String[] lines = result.pty().split("\r\n", -1);
    assertThat(lines[0]).matches("/dev/pts/\\d+");
    assertThat(lines[1]).isEqualTo("30 100");
    int ptsNumber = Integer.parseInt(lines[0].substring("/dev/pts/".length()));
    String stat = lines[2];
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ", -1);
    int expectedTtyNr = (136 << 8) | (ptsNumber & 0xff) | ((ptsNumber & ~0xff) << 12);
    assertThat(Integer.parseInt(fields[4])).as("controlling tty (tty_nr)").isEqualTo(expectedTtyNr);
    assertThat(result.stdout()).isEmpty();
    assertThat(result.end().getExitCode()).isZero();
    for (ProcessEvent event : result.events()) {
      if (event.hasData()) {
        assertThat(event.getData().getPty().size()).isBetween(1, 16 * 1024);
      }
    }
  }

  @Test
  void updateResizesThePtyAndDeliversSigwinch() throws Exception {
    StreamCall<StartResponse> call =
        start(
            ptyRequest(
                80,
                24,
                "/bin/bash",
                "-c",
                "trap 'echo winch; stty size' WINCH; echo ready; while :; do sleep 0.05; done"),
            context());
    int pid = call.awaitStart();
    StringBuilder seen = new StringBuilder();
    awaitOutput(call, seen, "ready");

    service.update(
        UpdateRequest.newBuilder()
            .setProcess(byPid(pid))
            .setPty(PTY.newBuilder().setSize(PTY.Size.newBuilder().setCols(120).setRows(40)))
            .build(),
        context());
    awaitOutput(call, seen, "winch\r\n40 120");
    service.sendSignal(signal(pid, Signal.SIGNAL_SIGKILL), context());
    call.finish();
  }

  @Test
  void ctrlCInterruptsTheForegroundProcess() throws Exception {
    StreamCall<StartResponse> call = start(ptyRequest(80, 24, "sleep", "100"), context());
    int pid = call.awaitStart();
    awaitTrue("sleep runs", () -> readOrEmpty(Path.of("/proc/" + pid + "/comm")).equals("sleep\n"));

    service.sendInput(pty(pid, "\u0003"), context());
    ProcessEvent.EndEvent end = call.finish().end();
    assertThat(end.getStatus()).isEqualTo("signal: interrupt");
    assertThat(end.getExitCode()).isEqualTo(-1);
    assertThat(end.getExited()).isFalse();
  }

  @Test
  void interactiveLoginBashAsTheSdkStartsIt() throws Exception {
    StartRequest request =
        StartRequest.newBuilder()
            .setProcess(
                ProcessConfig.newBuilder()
                    .setCmd("/bin/bash")
                    .addArgs("-i")
                    .addArgs("-l")
                    .putEnvs("TERM", "xterm-256color")
                    .putEnvs("LANG", "C.UTF-8")
                    .putEnvs("LC_ALL", "C.UTF-8"))
            .setPty(PTY.newBuilder().setSize(PTY.Size.newBuilder().setCols(80).setRows(24)))
            .build();
    StreamCall<StartResponse> call = start(request, context());
    int pid = call.awaitStart();
    StringBuilder seen = new StringBuilder();

    service.sendInput(pty(pid, "sleep 100\n"), context());
    awaitTrue("sleep started under bash", () -> childNamed(pid, "sleep"));
    service.sendInput(pty(pid, "\u0003"), context());
    awaitTrue("Ctrl-C ended sleep", () -> !childNamed(pid, "sleep"));
    service.sendInput(pty(pid, "echo result-$((6*7)) $TERM\n"), context());
    awaitOutput(call, seen, "result-42 xterm-256color");
    assertThatThrownBy(() -> service.sendInput(stdin(pid, "x"), context()))
        .isInstanceOf(ConnectException.class)
        .satisfies(e -> assertThat(((ConnectException) e).code()).isEqualTo(ConnectCode.INTERNAL));
    assertThatThrownBy(
            () ->
                service.closeStdin(
                    CloseStdinRequest.newBuilder().setProcess(byPid(pid)).build(), context()))
        .isInstanceOf(ConnectException.class);

    service.sendInput(pty(pid, "exit 3\n"), context());
    StreamCall.Result rest = call.finish();
    assertThat(rest.end().getExitCode()).isEqualTo(3);
  }

  // ---- bad input ----

  @Test
  void unknownPidOrTagIsNotFound() {
    assertConnectError(
        () -> service.sendSignal(signal(999_999_9, Signal.SIGNAL_SIGKILL), context()),
        ConnectCode.NOT_FOUND,
        "process with pid 9999999 not found");
    assertConnectError(
        () ->
            service.sendInput(
                SendInputRequest.newBuilder()
                    .setProcess(ProcessSelector.newBuilder().setTag("nope"))
                    .setInput(ProcessInput.newBuilder().setStdin(ByteString.copyFromUtf8("x")))
                    .build(),
                context()),
        ConnectCode.NOT_FOUND,
        "process with tag nope not found");
    assertConnectError(
        () ->
            connect(ProcessSelector.newBuilder().setTag("nope").build(), context())
                .awaitFailureRethrown(),
        ConnectCode.NOT_FOUND,
        "process with tag nope not found");
  }

  @Test
  void onlySigkillAndSigtermAreSupported() throws Exception {
    StreamCall<StartResponse> call = start(command("sleep", "100"), context());
    int pid = call.awaitStart();
    assertConnectError(
        () -> service.sendSignal(signal(pid, Signal.SIGNAL_UNSPECIFIED), context()),
        ConnectCode.UNIMPLEMENTED,
        "not supported");
    assertConnectError(
        () ->
            service.sendSignal(
                SendSignalRequest.newBuilder().setProcess(byPid(pid)).setSignalValue(2).build(),
                context()),
        ConnectCode.UNIMPLEMENTED,
        "not supported");
    service.sendSignal(signal(pid, Signal.SIGNAL_SIGKILL), context());
    call.finish().end();
    assertConnectError(
        () -> service.sendSignal(signal(pid, Signal.SIGNAL_SIGKILL), context()),
        ConnectCode.NOT_FOUND,
        "not found");
  }

  // ---- resources ----

  @Test
  void leavesNoDescriptorsOrThreadsBehindAndMeasuresStartLatency() throws Exception {
    StreamCall<StartResponse> warmup = start(command("true"), context());
    warmup.awaitStart();
    warmup.finish().end();
    awaitTrue("warm-up loop thread ended", () -> processThreads() == 0);
    long fdsBefore = OpenDescriptors.count();

    int runs = 30;
    long total = 0;
    for (int i = 0; i < runs; i++) {
      long begin = System.nanoTime();
      StreamCall<StartResponse> call = start(command("true"), context());
      call.awaitStart();
      call.finish().end();
      total += System.nanoTime() - begin;
    }
    StreamCall<StartResponse> ptyCall = start(ptyRequest(80, 24, "true"), context());
    ptyCall.awaitStart();
    ptyCall.finish().end();

    System.out.printf(
        "process.Start of `true` until its end event: %.2f ms on average over %d runs%n",
        total / 1e6 / runs, runs);
    awaitTrue("loop threads ended", () -> processThreads() == 0);
    assertThat(OpenDescriptors.count()).isEqualTo(fdsBefore);
  }

  // ---- helpers ----

  private StreamCall<StartResponse> start(StartRequest request, FakeCallContext context) {
    return StreamCall.run(
        StartResponse::getEvent, stream -> service.start(request, context, stream));
  }

  private StreamCall<ConnectResponse> connect(ProcessSelector selector, FakeCallContext context) {
    ConnectRequest request = ConnectRequest.newBuilder().setProcess(selector).build();
    return StreamCall.run(
        ConnectResponse::getEvent, stream -> service.connect(request, context, stream));
  }

  private static FakeCallContext context() {
    return FakeCallContext.create();
  }

  /** What {@code commands.run(script)} of the E2B SDK sends. */
  private static StartRequest bash(String script) {
    return StartRequest.newBuilder()
        .setProcess(
            ProcessConfig.newBuilder()
                .setCmd("/bin/bash")
                .addArgs("-l")
                .addArgs("-c")
                .addArgs(script))
        .setStdin(false)
        .build();
  }

  private static StartRequest command(String cmd, String... args) {
    return StartRequest.newBuilder()
        .setProcess(ProcessConfig.newBuilder().setCmd(cmd).addAllArgs(List.of(args)))
        .setStdin(false)
        .build();
  }

  private static StartRequest ptyRequest(int cols, int rows, String cmd, String... args) {
    return StartRequest.newBuilder()
        .setProcess(ProcessConfig.newBuilder().setCmd(cmd).addAllArgs(List.of(args)))
        .setPty(PTY.newBuilder().setSize(PTY.Size.newBuilder().setCols(cols).setRows(rows)))
        .build();
  }

  private static ProcessSelector byPid(int pid) {
    return ProcessSelector.newBuilder().setPid(pid).build();
  }

  private static SendSignalRequest signal(int pid, Signal signal) {
    return SendSignalRequest.newBuilder().setProcess(byPid(pid)).setSignal(signal).build();
  }

  private static SendInputRequest stdin(int pid, String text) {
    return SendInputRequest.newBuilder()
        .setProcess(byPid(pid))
        .setInput(ProcessInput.newBuilder().setStdin(ByteString.copyFromUtf8(text)))
        .build();
  }

  private static SendInputRequest pty(int pid, String text) {
    return SendInputRequest.newBuilder()
        .setProcess(byPid(pid))
        .setInput(ProcessInput.newBuilder().setPty(ByteString.copyFromUtf8(text)))
        .build();
  }

  /** Reads events until the output so far (stdout and pty) contains {@code text}. */
  private static void awaitOutput(StreamCall<?> call, StringBuilder seen, String text)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (seen.indexOf(text) < 0) {
      assertThat(System.nanoTime()).as("'%s' in output: %s", text, seen).isLessThan(deadline);
      ProcessEvent event = call.next();
      assertThat(event.hasEnd()).as("ended before '%s': %s", text, seen).isFalse();
      if (event.hasData()) {
        seen.append(event.getData().getStdout().toStringUtf8());
        seen.append(event.getData().getPty().toStringUtf8());
      }
    }
  }

  private static boolean contains(StreamCall<?> call, String text) {
    try {
      ProcessEvent event = call.next();
      return event.hasData() && event.getData().getStdout().toStringUtf8().contains(text);
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  private static boolean childNamed(int parent, String name) {
    try (var dirs = Files.list(Path.of("/proc"))) {
      return dirs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
          .anyMatch(
              p -> {
                String stat = readOrEmpty(p.resolve("stat"));
                int close = stat.lastIndexOf(')');
                if (close < 0) {
                  return false;
                }
                String comm = stat.substring(stat.indexOf('(') + 1, close);
                String[] fields = stat.substring(close + 2).split(" ", -1);
                return comm.equals(name) && fields[1].equals(Integer.toString(parent));
              });
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private static String readOrEmpty(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return "";
    }
  }

  private static long processThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith("process-") && !t.getName().startsWith("process-evict"))
        .count();
  }

  private static void awaitTrue(String what, BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as(what).isLessThan(deadline);
      Thread.sleep(10);
    }
  }
}
