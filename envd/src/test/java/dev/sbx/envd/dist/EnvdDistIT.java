package dev.sbx.envd.dist;

import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged envd ({@code target/envd-dist}, system property {@code envd.dist}) in a rootfs with
 * nothing but a static busybox: envd starts under tini and answers {@code /health}; the dist's JVM
 * spawns processes and its envd-exec switches users there; and a JVM that cannot use the AOT cache
 * still starts. Needs root (mount and PID namespaces, chroot), as in CI.
 */
class EnvdDistIT {
  private static final Path DIST = Path.of(System.getProperty("envd.dist", "target/envd-dist"));
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @BeforeAll
  static void distIsBuilt() {
    assertThat(DIST.resolve("bin/envd")).as("build the dist first: mvn package").isExecutable();
  }

  @Test
  void envdAnswersHealthUnderTiniInARootfsWithoutLibc(@TempDir Path logs) throws Exception {
    assumeRoot();
    Path log = logs.resolve("envd.log");
    try (BareRootfs rootfs = BareRootfs.create(DIST)) {
      int port = freePort();
      Map<String, String> env = new HashMap<>();
      env.put("ENVD_HOST", "127.0.0.1");
      env.put("ENVD_PORT", Integer.toString(port));
      if (Files.exists(DIST.resolve("envd.aot"))) {
        env.put(
            "ENVD_JAVA_OPTS", "-XX:AOTMode=on"); // fail, not fall back, if the cache is unusable
      }
      Process sandbox =
          rootfs.start(
              List.of("/opt/sbx/bin/tini", "--", "/opt/sbx/bin/busybox", "sh", "/opt/sbx/bin/envd"),
              env,
              log);

      assertThat(awaitHealth(port, sandbox, log)).as(() -> read(log)).isEqualTo(204);

      ProcessHandle jvm =
          sandbox
              .descendants()
              .filter(p -> cmdline(p).contains("/opt/sbx/jre/bin/java"))
              .findFirst()
              .orElseThrow();
      assertThat(cmdline(jvm))
          .startsWith(
              "/opt/sbx/glibc/ld-linux-x86-64.so.2",
              "--library-path",
              "/opt/sbx/glibc",
              "/opt/sbx/jre/bin/java");
      assertThat(environ(jvm))
          .containsEntry("ENVD_EXEC", "/opt/sbx/bin/envd-exec")
          .containsEntry("LC_ALL", "C.UTF-8")
          .containsEntry("LOCPATH", "/opt/sbx/locale");
    }
  }

  @Test
  void distJvmSpawnsProcessesAndEnvdExecSwitchesUserInARootfsWithoutLibc(@TempDir Path logs)
      throws Exception {
    assumeRoot();
    Path log = logs.resolve("probe.log");
    try (BareRootfs rootfs = BareRootfs.create(DIST)) {
      Path probe = rootfs.root().resolve("probe/dev/sbx/envd/dist/SpawnProbe.class");
      Files.createDirectories(probe.getParent());
      try (InputStream in = SpawnProbe.class.getResourceAsStream("SpawnProbe.class")) {
        Files.copy(requireNonNull(in, "SpawnProbe.class"), probe);
      }
      // The environment bin/envd gives the JVM (checked in the test above).
      Map<String, String> env = Map.of("LC_ALL", "C.UTF-8", "LOCPATH", "/opt/sbx/locale");
      Process process =
          rootfs.start(
              List.of(
                  "/opt/sbx/glibc/ld-linux-x86-64.so.2",
                  "--library-path",
                  "/opt/sbx/glibc",
                  "/opt/sbx/jre/bin/java",
                  "-XX:-UsePerfData",
                  "-cp",
                  "/probe",
                  SpawnProbe.class.getName(),
                  "/tmp",
                  "/opt/sbx/bin/envd-exec",
                  "100",
                  "65534",
                  "65534",
                  "65534,100",
                  "--",
                  "/opt/sbx/bin/busybox",
                  "sh",
                  "-c",
                  "id; cat /proc/self/oom_score_adj"),
              env,
              log);

      assertThat(process.waitFor(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS))
          .as(() -> read(log))
          .isTrue();
      assertThat(read(log))
          .contains("sun.jnu.encoding=UTF-8")
          .contains("created zoë-ファイル.txt")
          .contains("child exit 0: uid=65534 gid=65534 groups=100,65534")
          .containsPattern("(?m)^100$");
      assertThat(process.exitValue()).as(() -> read(log)).isZero();
    }
  }

  @Test
  void envdStartsWhenTheAotCacheIsUnusable(@TempDir Path copy) throws Exception {
    // A dist whose bin/ is a real copy (the launcher finds its home from there) and whose other
    // parts link to the built dist, with garbage for an AOT cache.
    Path bin = Files.createDirectories(copy.resolve("bin"));
    try (var files = Files.list(DIST.resolve("bin"))) {
      for (Path file : files.toList()) {
        Files.copy(file, bin.resolve(file.getFileName()));
      }
    }
    for (String part : List.of("glibc", "jre", "lib", "locale")) {
      Files.createSymbolicLink(copy.resolve(part), DIST.resolve(part).toAbsolutePath());
    }
    Files.writeString(copy.resolve("envd.aot"), "not an AOT cache");
    int port = freePort();
    Path log = copy.resolve("envd.log");
    ProcessBuilder builder =
        new ProcessBuilder(
                copy.resolve("bin/busybox").toString(), "sh", bin.resolve("envd").toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    builder.environment().put("ENVD_HOST", "127.0.0.1");
    builder.environment().put("ENVD_PORT", Integer.toString(port));
    builder.environment().remove("ENVD_JAVA_OPTS");
    Process envd = builder.start();
    try {
      assertThat(awaitHealth(port, envd, log)).as(() -> read(log)).isEqualTo(204);
    } finally {
      envd.destroy();
      if (!envd.waitFor(30, TimeUnit.SECONDS)) {
        envd.destroyForcibly().waitFor();
      }
      for (String part : List.of("glibc", "jre", "lib", "locale")) {
        Files.delete(copy.resolve(part)); // the links, before @TempDir walks the tree
      }
    }
  }

  /** Polls GET /health until it answers; fails if {@code process} exits or the deadline passes. */
  private static int awaitHealth(int port, Process process, Path log) throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
            .timeout(Duration.ofSeconds(5))
            .build();
    Instant deadline = Instant.now().plus(START_TIMEOUT);
    while (true) {
      try {
        return HTTP.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
      } catch (ConnectException e) {
        if (!process.isAlive()) {
          throw new AssertionError("exited with " + process.exitValue() + ":\n" + read(log), e);
        }
        if (Instant.now().isAfter(deadline)) {
          throw new AssertionError("no answer on /health within " + START_TIMEOUT, e);
        }
        Thread.sleep(20);
      }
    }
  }

  private static void assumeRoot() throws IOException {
    Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    assumeTrue(Integer.valueOf(0).equals(uid), "needs root: mount and PID namespaces, chroot");
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static List<String> cmdline(ProcessHandle process) {
    return Arrays.asList(readProc(process, "cmdline").split("\0"));
  }

  private static Map<String, String> environ(ProcessHandle process) {
    return Arrays.stream(readProc(process, "environ").split("\0"))
        .filter(entry -> entry.contains("="))
        .collect(
            Collectors.toMap(
                entry -> entry.substring(0, entry.indexOf('=')),
                entry -> entry.substring(entry.indexOf('=') + 1),
                (first, second) -> second));
  }

  private static String readProc(ProcessHandle process, String file) {
    try {
      return Files.readString(Path.of("/proc", Long.toString(process.pid()), file));
    } catch (IOException e) {
      return "";
    }
  }

  private static String read(Path log) {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }
}
