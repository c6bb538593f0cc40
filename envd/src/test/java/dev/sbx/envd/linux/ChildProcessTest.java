package dev.sbx.envd.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ChildProcessTest {
  private static final Path SH = Path.of("/bin/sh");

  @Test
  void exitCodesAndSignalsAreTellApart() throws Exception {
    assertThat(run("exit 137")).isEqualTo(WaitStatus.ofExit(137));
    assertThat(run("exit 0").exited()).isTrue();
    WaitStatus killed = run("kill -9 $$");
    assertThat(killed.exited()).isFalse();
    assertThat(killed.signaled()).isTrue();
    assertThat(killed.termSignal()).isEqualTo(9);
  }

  @Test
  void childGetsItsOwnSessionCwdEnvironmentAndOnlyItsDescriptors() throws Exception {
    Syscalls.Pipe out = Syscalls.pipe();
    ChildProcess child;
    try {
      child =
          ChildProcess.spawn(
              SH,
              List.of("sh", "-c", "echo $FOO; pwd; ls /proc/self/fd; cat /proc/$$/stat"),
              List.of("FOO=bar", "PATH=/usr/bin:/bin"),
              Path.of("/tmp"),
              List.of(
                  new ChildProcess.FileAction.Open(0, "/dev/null", Syscalls.O_RDONLY),
                  new ChildProcess.FileAction.Dup2(out.writeEnd(), 1),
                  new ChildProcess.FileAction.Dup2(out.writeEnd(), 2)));
    } finally {
      Syscalls.close(out.writeEnd());
    }
    String output = readAll(out.readEnd());
    WaitStatus status = awaitExit(child);
    child.close();

    assertThat(status).isEqualTo(WaitStatus.ofExit(0));
    String[] lines = output.strip().split("\n", -1);
    assertThat(lines[0]).isEqualTo("bar");
    assertThat(lines[1]).isEqualTo("/tmp");
    // 0, 1, 2 and the descriptor ls opens for /proc/self/fd: nothing of the JVM leaks.
    assertThat(List.of(lines).subList(2, lines.length - 1)).containsExactly("0", "1", "2", "3");
    String stat = lines[lines.length - 1];
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ", -1);
    assertThat(fields[3]).as("session id").isEqualTo(Integer.toString(child.pid()));
    assertThat(fields[2]).as("process group").isEqualTo(Integer.toString(child.pid()));
  }

  @Test
  void withoutAPidfdTheExitIsFoundByPollingAndTheChildIsReaped() throws Exception {
    Syscalls.Pipe out = Syscalls.pipe();
    ChildProcess child;
    try {
      child =
          ChildProcess.spawn(
              SH,
              List.of("sh", "-c", "echo hi; exit 3"),
              List.of(),
              Path.of("/"),
              List.of(new ChildProcess.FileAction.Dup2(out.writeEnd(), 1)),
              ChildProcess.ExitWatch.POLL);
    } finally {
      Syscalls.close(out.writeEnd());
    }
    assertThat(child.pidfd()).isEqualTo(-1);
    assertThat(readAll(out.readEnd())).isEqualTo("hi\n");
    Syscalls.close(out.readEnd());
    assertThat(awaitExit(child)).isEqualTo(WaitStatus.ofExit(3));
    assertThat(Files.exists(Path.of("/proc/" + child.pid()))).as("no zombie").isFalse();
    assertThat(child.signal(Syscalls.SIGKILL)).isFalse();
    child.close();
  }

  @Test
  void closingARunningChildWithoutAPidfdKillsAndReapsIt() throws Exception {
    ChildProcess child =
        ChildProcess.spawn(
            SH,
            List.of("sh", "-c", "sleep 100"),
            List.of(),
            Path.of("/"),
            List.of(),
            ChildProcess.ExitWatch.POLL);
    assertThat(child.tryReap()).isNull();
    child.close();
    assertThat(child.tryReap()).isEqualTo(WaitStatus.ofSignal(Syscalls.SIGKILL));
    assertThat(Files.exists(Path.of("/proc/" + child.pid()))).isFalse();
  }

  @Test
  void signalAfterReapIsRefused() throws Exception {
    ChildProcess child =
        ChildProcess.spawn(
            SH, List.of("sh", "-c", "sleep 100"), List.of(), Path.of("/"), List.of());
    assertThat(child.tryReap()).isNull();
    assertThat(child.signal(Syscalls.SIGTERM)).isTrue();
    assertThat(awaitExit(child)).isEqualTo(WaitStatus.ofSignal(Syscalls.SIGTERM));
    assertThat(child.signal(Syscalls.SIGKILL)).isFalse();
    child.close();
    child.close();
  }

  @Test
  void aProgramThatCannotRunIsAnError() {
    assertThatThrownBy(
            () ->
                ChildProcess.spawn(
                    Path.of("/no/such/program"), List.of("x"), List.of(), Path.of("/"), List.of()))
        .isInstanceOf(ErrnoException.class)
        .satisfies(e -> assertThat(((ErrnoException) e).errno()).isEqualTo(2));
  }

  @Test
  void ptyHasASlavePathAndTakesAWindowSize() throws Exception {
    Syscalls.Pty pty = Syscalls.openPty();
    try {
      assertThat(pty.slavePath()).matches("/dev/pts/\\d+");
      Syscalls.setWindowSize(pty.master(), 132, 43);
      ChildProcess child =
          ChildProcess.spawn(
              SH,
              List.of("sh", "-c", "stty size"),
              List.of("PATH=/usr/bin:/bin"),
              Path.of("/"),
              List.of(
                  new ChildProcess.FileAction.Open(0, pty.slavePath(), Syscalls.O_RDWR),
                  new ChildProcess.FileAction.Dup2(0, 1),
                  new ChildProcess.FileAction.Dup2(0, 2)));
      String output = readAll(pty.master());
      assertThat(awaitExit(child)).isEqualTo(WaitStatus.ofExit(0));
      child.close();
      assertThat(output).isEqualTo("43 132\r\n");
    } finally {
      Syscalls.close(pty.master());
    }
  }

  /** Reads a descriptor to its end (EOF, or EIO for a PTY master), polling as needed. */
  private static String readAll(int fd) throws ErrnoException {
    StringBuilder text = new StringBuilder();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buffer = arena.allocate(4096);
      MemorySegment pollFd = arena.allocate(Syscalls.POLLFD_SIZE);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (System.nanoTime() < deadline) {
        Syscalls.pollEntry(pollFd, 0, fd, Syscalls.POLLIN);
        Syscalls.poll(pollFd, 1, 1000);
        long n;
        try {
          n = Syscalls.read(fd, buffer, 4096);
        } catch (ErrnoException e) {
          if (e.errno() == Syscalls.EIO) {
            break;
          }
          throw e;
        }
        if (n == 0) {
          break;
        }
        if (n > 0) {
          text.append(
              new String(
                  buffer.asSlice(0, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                  StandardCharsets.UTF_8));
        }
      }
    }
    return text.toString();
  }

  private static WaitStatus run(String script) throws Exception {
    ChildProcess child =
        ChildProcess.spawn(SH, List.of("sh", "-c", script), List.of(), Path.of("/"), List.of());
    WaitStatus status = awaitExit(child);
    child.close();
    return status;
  }

  private static WaitStatus awaitExit(ChildProcess child) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      WaitStatus status = child.tryReap();
      if (status != null) {
        return status;
      }
      Thread.sleep(5);
    }
    throw new AssertionError("child " + child.pid() + " did not end");
  }

  @Test
  void procIsMounted() {
    assertThat(Files.isDirectory(Path.of("/proc/self/fd"))).isTrue();
  }
}
