package dev.sbx.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sbx.testing.EnvdLaunch;
import dev.sbx.testing.HostEnvd;
import dev.sbx.testing.HostUser;
import dev.sbx.testing.NodeProject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The acceptance suite of envd: the official {@code e2b} npm SDK, 2.45.0 and 2.51.0, drives envd
 * running on this host in the SDK's debug mode ({@code E2B_DEBUG=true}: no API calls, envd at
 * {@code http://localhost:49983}). The JavaScript tests are in {@code it/js/test}; this class
 * installs them ({@code npm ci} when needed), starts envd on port 49983 with the default user
 * {@code user} (E2B's default sandbox user, created here when the host has none), runs {@code node
 * --test} once per SDK version, and removes everything afterwards.
 */
class E2bSdkEnvdIT {
  private static final int ENVD_PORT = 49983;
  private static final String DEFAULT_USER = "user";
  private static final Duration SUITE_TIMEOUT = Duration.ofMinutes(10);

  private static @Nullable HostUser user;
  private static @Nullable HostEnvd envd;
  private static @Nullable Path scratch;
  // checked after the JS suite ran, so that a failed /init still shows what else works
  private static String initResult = "POST /init not sent";
  private static final NodeProject JS =
      NodeProject.at(Path.of(System.getProperty("sbx.it.js", "js")));

  @BeforeAll
  static void start() throws Exception {
    // the e2b SDK (both versions) declares node ">=20.18.1 <21 || >=22"
    int nodeOk =
        JS.run(
            List.of(
                "node",
                "-e",
                "const [a,b,c]=process.versions.node.split('.').map(Number);"
                    + " console.log('node ' + process.version);"
                    + " process.exit(a>=22||(a===20&&(b>18||(b===18&&c>=1)))?0:1)"),
            Map.of(),
            Duration.ofSeconds(30),
            "node");
    assertThat(nodeOk).as("node on the PATH must be >= 20.18.1 (e2b SDK engines)").isZero();
    JS.installDependencies();
    user = HostUser.ensure(DEFAULT_USER);
    scratch = Files.createTempDirectory("sbx-it-");
    Files.setPosixFilePermissions(scratch, PosixFilePermissions.fromString("rwxrwxrwx"));
    envd =
        HostEnvd.start(
            EnvdLaunch.detect(), ENVD_PORT, Path.of("target/envd-" + ENVD_PORT + ".log"));
    System.out.println("[it] started " + envd);
    var init = envd.init("{\"defaultUser\":\"" + DEFAULT_USER + "\"}", null);
    initResult = "POST /init = " + init.statusCode() + " " + init.body();
  }

  @AfterAll
  static void stop() throws IOException {
    List<Throwable> failures = new ArrayList<>();
    run(
        failures,
        () -> {
          if (envd != null) {
            envd.close();
          }
        });
    run(
        failures,
        () -> {
          if (scratch != null) {
            deleteTree(scratch);
          }
        });
    run(
        failures,
        () -> {
          // the JS tests work in ~/sbx-it-*; a run that failed half-way may leave one behind
          if (user != null && !user.created()) {
            try (Stream<Path> leftovers = Files.list(user.home())) {
              for (Path p :
                  leftovers
                      .filter(p -> p.getFileName().toString().startsWith("sbx-it-"))
                      .toList()) {
                deleteTree(p);
              }
            }
          }
        });
    run(
        failures,
        () -> {
          if (user != null) {
            user.close();
          }
        });
    if (!failures.isEmpty()) {
      AssertionError error = new AssertionError("cleanup failed");
      failures.forEach(error::addSuppressed);
      throw error;
    }
  }

  @ParameterizedTest(name = "e2b SDK {0}")
  @ValueSource(strings = {"e2b-2.45", "e2b-2.51"})
  void sdkSuitePasses(String sdkPackage) throws Exception {
    List<String> command =
        new ArrayList<>(List.of("node", "--test", "--test-concurrency=1", "--test-reporter=spec"));
    try (Stream<Path> files = Files.list(JS.directory().resolve("test"))) {
      files
          .map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".test.mjs"))
          .sorted()
          .forEach(n -> command.add("test/" + n));
    }
    int exit =
        JS.run(
            command,
            Map.of(
                "E2B_DEBUG",
                "true",
                "SBX_E2B_PACKAGE",
                sdkPackage,
                "SBX_IT_SCRATCH",
                String.valueOf(scratch),
                "NO_COLOR",
                "1"),
            SUITE_TIMEOUT,
            sdkPackage);
    assertThat(initResult).as("the default user must be set first").startsWith("POST /init = 204");
    assertThat(exit)
        .as(
            "node --test against %s (output above; envd log %s)",
            sdkPackage, envd == null ? "-" : envd.logFile())
        .isZero();
  }

  private interface Step {
    void run() throws Exception;
  }

  private static void run(List<Throwable> failures, Step step) {
    try {
      step.run();
    } catch (Exception | AssertionError e) {
      failures.add(e);
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
