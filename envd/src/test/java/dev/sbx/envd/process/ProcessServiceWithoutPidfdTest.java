package dev.sbx.envd.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sbx.envd.FakeCallContext;
import dev.sbx.envd.linux.ChildProcess;
import dev.sbx.proto.process.ProcessConfig;
import dev.sbx.proto.process.ProcessEvent;
import dev.sbx.proto.process.StartRequest;
import dev.sbx.proto.process.StartResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every test of {@link ProcessServiceTest} again, with exits found by polling {@code waitpid}
 * instead of a pidfd: what envd does under gVisor, which has no {@code pidfd_open}.
 */
class ProcessServiceWithoutPidfdTest extends ProcessServiceTest {
  @Override
  ChildProcess.ExitWatch exitWatch() {
    return ChildProcess.ExitWatch.POLL;
  }

  @Test
  void noPidfdIsOpenWhileAProcessRunsAndItsOutputExitCodeAndReapingAreExact() throws Exception {
    StreamCall<StartResponse> call =
        StreamCall.run(
            StartResponse::getEvent,
            stream ->
                service.start(
                    StartRequest.newBuilder()
                        .setProcess(
                            ProcessConfig.newBuilder()
                                .setCmd("/bin/sh")
                                .addArgs("-c")
                                .addArgs("sleep 0.3; echo out; echo err >&2; exit 7"))
                        .setStdin(false)
                        .build(),
                    FakeCallContext.create(),
                    stream));
    int pid = call.awaitStart();
    assertThat(pidfds()).as("pidfds of this JVM while the process runs").isZero();
    var result = call.finish();
    ProcessEvent.EndEvent end = result.end();
    assertThat(result.stdout()).isEqualTo("out\n");
    assertThat(result.stderr()).isEqualTo("err\n");
    assertThat(end.getExitCode()).isEqualTo(7);
    assertThat(end.getExited()).isTrue();
    assertThat(end.getStatus()).isEqualTo("exit status 7");
    assertThat(Files.exists(Path.of("/proc/" + pid))).as("reaped, no zombie").isFalse();
  }

  private static long pidfds() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.filter(
              fd -> {
                try {
                  return Files.readSymbolicLink(fd).toString().contains("pidfd");
                } catch (IOException e) {
                  return false;
                }
              })
          .count();
    }
  }
}
