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
  void wrapsTheCommandInEnvdExec() {
    Launch launch =
        Launch.of(
            Path.of("/opt/sbx/bin/envd-exec"),
            USER,
            Map.of(),
            ProcessConfig.newBuilder()
                .setCmd("/bin/bash")
                .addArgs("-l")
                .addArgs("-c")
                .addArgs("ls")
                .build(),
            Path.of("/home/user"));

    assertThat(launch.program()).isEqualTo(Path.of("/opt/sbx/bin/envd-exec"));
    assertThat(launch.argv())
        .containsExactly(
            "/opt/sbx/bin/envd-exec",
            "100",
            "1000",
            "1000",
            "1000,27",
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
            Path.of("/opt/sbx/bin/envd-exec"),
            lonely,
            Map.of(),
            ProcessConfig.newBuilder().setCmd("true").build(),
            Path.of("/"));
    assertThat(launch.argv().subList(1, 6)).containsExactly("100", "5", "5", "", "--");
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
    assertThatThrownBy(() -> Launch.of(Path.of("/e"), USER, Map.of(), empty, Path.of("/")))
        .isInstanceOf(ConnectException.class);
    ProcessConfig nul = ProcessConfig.newBuilder().setCmd("echo").addArgs("a\0b").build();
    assertThatThrownBy(() -> Launch.of(Path.of("/e"), USER, Map.of(), nul, Path.of("/")))
        .isInstanceOf(ConnectException.class)
        .hasMessageContaining("NUL");
    assertThatThrownBy(() -> Launch.environment(USER, Map.of(), Map.of("A=B", "x")))
        .isInstanceOf(ConnectException.class);
  }
}
