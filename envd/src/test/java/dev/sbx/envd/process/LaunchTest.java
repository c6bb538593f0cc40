package dev.sbx.envd.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sbx.connect.ConnectException;
import dev.sbx.envd.user.SandboxUser;
import dev.sbx.proto.process.ProcessConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LaunchTest {
  private static final SandboxUser USER =
      new SandboxUser("user", 1000, 1000, Path.of("/home/user"), "/bin/bash", List.of(1000, 27));

  @Test
  void wrapsTheCommandInTheOomShellAndSetpriv() {
    Launch launch =
        Launch.of(
            Path.of("/opt/envd/busybox"),
            Path.of("/opt/envd/setpriv"),
            USER,
            Map.of(),
            ProcessConfig.newBuilder()
                .setCmd("/bin/bash")
                .addArgs("-l")
                .addArgs("-c")
                .addArgs("ls")
                .build(),
            Path.of("/home/user"));

    assertThat(launch.program()).isEqualTo(Path.of("/opt/envd/busybox"));
    assertThat(launch.argv())
        .containsExactly(
            "/opt/envd/busybox",
            "sh",
            "-c",
            "echo 100 > /proc/$$/oom_score_adj && exec \"$@\"",
            "--",
            "/opt/envd/setpriv",
            "--reuid=1000",
            "--regid=1000",
            "--groups=1000,27",
            "--",
            "/bin/bash",
            "-l",
            "-c",
            "ls");
  }

  @Test
  void aUserWithoutGroupsGetsNone() {
    SandboxUser lonely = new SandboxUser("x", 5, 5, Path.of("/"), "/bin/sh", List.of());
    Launch launch =
        Launch.of(
            Path.of("/bin/busybox"),
            Path.of("/usr/bin/setpriv"),
            lonely,
            Map.of(),
            ProcessConfig.newBuilder().setCmd("true").build(),
            Path.of("/"));
    assertThat(launch.argv()).contains("--clear-groups").noneMatch(a -> a.startsWith("--groups"));
  }

  @Test
  void environmentOrderLaterWins() {
    Map<String, String> defaults = new LinkedHashMap<>();
    defaults.put("E2B_SANDBOX", "true");
    defaults.put("HOME", "/from-init");
    assertThat(Launch.environment(USER, defaults, Map.of("PATH", "/custom", "X", "1")))
        .containsExactly(
            "PATH=/custom",
            "HOME=/from-init",
            "USER=user",
            "LOGNAME=user",
            "E2B_SANDBOX=true",
            "X=1");
  }

  @Test
  void rejectsWhatCannotBePassedToAProcess() {
    ProcessConfig empty = ProcessConfig.newBuilder().build();
    assertThatThrownBy(
            () -> Launch.of(Path.of("/b"), Path.of("/s"), USER, Map.of(), empty, Path.of("/")))
        .isInstanceOf(ConnectException.class);
    ProcessConfig nul = ProcessConfig.newBuilder().setCmd("echo").addArgs("a\0b").build();
    assertThatThrownBy(
            () -> Launch.of(Path.of("/b"), Path.of("/s"), USER, Map.of(), nul, Path.of("/")))
        .isInstanceOf(ConnectException.class)
        .hasMessageContaining("NUL");
    assertThatThrownBy(() -> Launch.environment(USER, Map.of(), Map.of("A=B", "x")))
        .isInstanceOf(ConnectException.class);
  }
}
