package dev.sbx.orchestrator.template;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sbx.connect.ConnectClient;
import dev.sbx.connect.ServerStream;
import dev.sbx.orchestrator.fixture.TestTemplate;
import dev.sbx.orchestrator.lifecycle.LifecycleSettings;
import dev.sbx.orchestrator.lifecycle.Sandbox;
import dev.sbx.orchestrator.lifecycle.SandboxLifecycle;
import dev.sbx.orchestrator.lifecycle.SandboxRequest;
import dev.sbx.orchestrator.network.Ipv4Cidr;
import dev.sbx.orchestrator.network.NetworkConfig;
import dev.sbx.orchestrator.network.NetworkSlotPool;
import dev.sbx.orchestrator.rootfs.DirectoryTree;
import dev.sbx.orchestrator.runtime.RuncRuntime;
import dev.sbx.orchestrator.runtime.RuncSettings;
import dev.sbx.proto.process.ProcessConfig;
import dev.sbx.proto.process.ProcessEvent;
import dev.sbx.proto.process.StartRequest;
import dev.sbx.proto.process.StartResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The {@code base} template for real (root, mmdebstrap, runc, envd's dist): built in {@code
 * /var/lib/sbx/templates} (system property {@code sbx.templates}) or reused if already there, then
 * a sandbox from it on runc, created by {@link SandboxLifecycle} with nothing but the template id,
 * so that user, workdir and environment come from the template's settings; commands go through
 * envd's Connect API. Containers {@code sbxb-…}, cgroups below {@code /sbxb}, network layout {@code
 * sbxb} / bridge {@code sbxb0} / {@code 10.237.12.0/28} (only that bridge's addresses are
 * contacted); all of it is removed after the class and checked gone.
 */
class BaseTemplateTest {
  static final NetworkConfig NETWORK =
      new NetworkConfig("sbxb", "sbxb0", Ipv4Cidr.parse("10.237.12.0/28"), 0);
  static final String CGROUP_PARENT = "sbxb";
  static final Duration WITHIN = Duration.ofSeconds(60);

  static Path workDir;
  static Template template;
  static RuncSettings runc;
  static NetworkSlotPool network;
  static SandboxLifecycle lifecycle;
  static Sandbox sandbox;
  static ConnectClient envd;

  @BeforeAll
  static void buildTemplateAndStartSandbox() throws Exception {
    assertThat(Files.getAttribute(Path.of("/proc/self"), "unix:uid"))
        .as("the base template test needs root")
        .isEqualTo(0);
    Path templatesDir =
        Path.of(
            System.getProperty(
                "sbx.templates", BaseTemplateBuilder.DEFAULT_TEMPLATES_DIR.toString()));
    TemplateDirectory templates = new TemplateDirectory(templatesDir);
    template = new BaseTemplateBuilder(templates, System.out::println, null).build(false);
    workDir = Files.createTempDirectory("sbxb-");
    runc =
        new RuncSettings(
            Path.of("runc"),
            workDir.resolve("runc-state"),
            workDir.resolve("sandboxes"),
            "sbxb-",
            CGROUP_PARENT);
    NetworkSlotPool.removeAll(NETWORK); // what a crashed run left
    network = NetworkSlotPool.start(NETWORK);
    lifecycle =
        new SandboxLifecycle(
            new RuncRuntime(runc),
            network,
            templates,
            new LifecycleSettings(
                TestTemplate.envdDist(), 2, WITHIN, Duration.ofSeconds(1), List.of()),
            InstantSource.system());
    sandbox = lifecycle.create(SandboxRequest.of("base-test", BaseTemplateBuilder.TEMPLATE_ID));
    envd =
        ConnectClient.builder(URI.create("http://" + sandbox.slot().ip() + ":49983"))
            .timeout(WITHIN)
            .build();
  }

  @AfterAll
  static void removeEverything() throws Exception {
    List<String> left = new ArrayList<>();
    try {
      if (envd != null) {
        envd.close();
      }
      if (lifecycle != null) {
        lifecycle.close();
      }
      if (network != null) {
        network.close();
      }
    } finally {
      if (workDir != null) {
        Process list =
            new ProcessBuilder("runc", "--root", runc.stateRoot().toString(), "list", "-q")
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        String containers =
            new String(list.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        list.waitFor();
        containers.lines().filter(line -> !line.isBlank()).forEach(c -> left.add("container " + c));
        try (DirectoryStream<Path> hierarchies =
            Files.newDirectoryStream(Path.of("/sys/fs/cgroup"))) {
          for (Path hierarchy : hierarchies) {
            Files.deleteIfExists(hierarchy.resolve(CGROUP_PARENT)); // rmdir: fails if not empty
          }
        }
        DirectoryTree.delete(workDir);
      }
      left.addAll(NetworkSlotPool.leftovers(NETWORK));
    }
    assertThat(left).as("left on the host").isEmpty();
  }

  /** Runs {@code /bin/bash -c script} through envd as the default user; returns its stdout. */
  static String run(String script) throws IOException {
    StartRequest request =
        StartRequest.newBuilder()
            .setProcess(
                ProcessConfig.newBuilder().setCmd("/bin/bash").addArgs("-c").addArgs(script))
            .setStdin(false)
            .build();
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    Integer exitCode = null;
    try (ServerStream<StartResponse> events =
        envd.serverStream("process.Process/Start", request, StartResponse.getDefaultInstance())) {
      for (StartResponse response : events) {
        ProcessEvent event = response.getEvent();
        if (event.hasData() && event.getData().hasStdout()) {
          event.getData().getStdout().writeTo(stdout);
        }
        if (event.hasData() && event.getData().hasStderr()) {
          event.getData().getStderr().writeTo(stderr);
        }
        if (event.hasEnd()) {
          exitCode = event.getEnd().getExitCode();
        }
      }
    }
    assertThat(exitCode)
        .as("exit code of %s (stderr: %s)", script, stderr.toString(StandardCharsets.UTF_8))
        .isZero();
    return stdout.toString(StandardCharsets.UTF_8);
  }

  @Test
  void templateIsInPlaceWithItsSettings() {
    assertThat(template.directory().getFileName()).hasToString("base");
    assertThat(template.rootfs().resolve("usr/bin/python3")).exists();
    TemplateSettings settings = template.settings();
    assertThat(settings.cpuCount()).isEqualTo(2);
    assertThat(settings.memoryMB()).isEqualTo(512);
    assertThat(settings.defaultUser()).isEqualTo("user");
    assertThat(settings.defaultWorkdir()).isEqualTo("/home/user");
    assertThat(settings.builtAt()).isNotNull();
    assertThat(settings.rootfsBytes()).isGreaterThan(100L << 20);
    System.out.printf(
        "base template: built %s in %d s, rootfs %d MiB%n",
        settings.builtAt(), settings.buildMillis() / 1000, settings.rootfsBytes() >> 20);
  }

  @Test
  void pythonRuns() throws Exception {
    assertThat(run("python3 -c 'print(1+1)'")).isEqualTo("2\n");
    assertThat(run("python3 -m pip --version")).startsWith("pip ");
  }

  @Test
  void nodeAndNpmRun() throws Exception {
    assertThat(run("node -e 'console.log(1+1)'")).isEqualTo("2\n");
    assertThat(run("npm --version")).matches("\\d+\\.\\d+\\.\\d+\\n");
  }

  @Test
  void theUserIsUserWithPasswordlessSudo() throws Exception {
    assertThat(run("whoami")).isEqualTo("user\n");
    assertThat(run("id -u; id -g")).isEqualTo("1000\n1000\n");
    assertThat(run("sudo -n id -u")).isEqualTo("0\n");
  }

  @Test
  void homeWorkdirAndEnvironmentComeFromTheTemplate() throws Exception {
    assertThat(run("echo $HOME; pwd; echo $LANG")).isEqualTo("/home/user\n/home/user\nC.UTF-8\n");
    assertThat(run("stat -c '%a %U' /tmp /home/user")).isEqualTo("1777 root\n755 user\n");
  }

  @Test
  void aLoginShellKnowsTheUserIdWithoutAskingId() throws Exception {
    // no PATH to find id(1) in: Debian's stock /etc/profile would print two errors here and give
    // root the user's PATH
    String loginPath = "env -i PATH=/nonexistent HOME=%s /bin/bash -l -c 'echo \"$PATH\"' 2>&1";
    assertThat(run(loginPath.formatted("/home/user")))
        .isEqualTo("/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games\n");
    assertThat(run("sudo -n " + loginPath.formatted("/root")))
        .isEqualTo("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n");
    // other shells still ask id(1)
    assertThat(run("sudo -n env -i PATH=/usr/bin:/bin HOME=/root sh -l -c 'echo \"$PATH\"'"))
        .isEqualTo("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n");
  }

  @Test
  void gitCurlAndTheRestAreThere() throws Exception {
    assertThat(run("git --version")).startsWith("git version ");
    assertThat(run("curl --version | head -n1")).startsWith("curl ");
    assertThat(run("command -v ip ps less sudo update-ca-certificates | wc -l")).isEqualTo("5\n");
    assertThat(run("test -s /etc/ssl/certs/ca-certificates.crt && echo ok")).isEqualTo("ok\n");
  }
}
