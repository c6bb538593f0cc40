package dev.sbx.testing;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * How to start envd on the host: the command line and the environment it needs besides {@code
 * ENVD_PORT}.
 *
 * <p>Two ways exist. {@link #dist} runs the packaged launcher {@code
 * envd/target/envd-dist/bin/envd} (what {@code ./sbx envd} runs), with {@code JAVA_HOME} set to the
 * JDK the tests run on. {@link #classpath} runs {@code java -cp <envd jar and its dependencies>
 * dev.sbx.envd.Envd} on that JDK. {@link #detect} picks one from system properties, as the {@code
 * it} module's failsafe configuration sets them:
 *
 * <ul>
 *   <li>{@code sbx.envd.launch} = {@code dist}, {@code classpath} or {@code auto} (default: the
 *       dist when its launcher exists, the class path otherwise);
 *   <li>{@code sbx.repo.root}: the repository root, where {@code envd/target/envd-dist} is looked
 *       for (default: the working directory's parent);
 *   <li>{@code sbx.envd.classpath.file}: a file holding envd's runtime class path (the output of
 *       {@code dependency:build-classpath}); or {@code sbx.envd.classpath}: the class path itself.
 * </ul>
 */
public record EnvdLaunch(
    String description, List<String> command, Map<String, String> environment) {
  public static final String MAIN_CLASS = "dev.sbx.envd.Envd";

  public EnvdLaunch {
    requireNonNull(description, "description");
    command = List.copyOf(command);
    environment = Map.copyOf(environment);
  }

  /** The JDK this JVM runs on (Java 25 in the build). */
  public static Path currentJavaHome() {
    return Path.of(System.getProperty("java.home"));
  }

  /** The packaged launcher {@code <repoRoot>/envd/target/envd-dist/bin/envd}. */
  public static Path distLauncher(Path repoRoot) {
    return repoRoot.resolve("envd/target/envd-dist/bin/envd");
  }

  public static EnvdLaunch dist(Path launcher, Path javaHome) {
    requireNonNull(launcher, "launcher");
    requireNonNull(javaHome, "javaHome");
    if (!Files.isExecutable(launcher)) {
      throw new IllegalArgumentException("envd launcher " + launcher + " is not executable");
    }
    return new EnvdLaunch(
        "dist " + launcher, List.of(launcher.toString()), Map.of("JAVA_HOME", javaHome.toString()));
  }

  public static EnvdLaunch classpath(Path javaHome, String classpath) {
    requireNonNull(javaHome, "javaHome");
    requireNonNull(classpath, "classpath");
    if (classpath.isBlank()) {
      throw new IllegalArgumentException("envd class path is empty");
    }
    Path java = javaHome.resolve("bin/java");
    return new EnvdLaunch(
        "class path on " + java,
        List.of(
            java.toString(),
            // envd binds libc calls with java.lang.foreign (dev.sbx.envd.linux)
            "--enable-native-access=ALL-UNNAMED",
            "-cp",
            classpath.strip(),
            MAIN_CLASS),
        Map.of("JAVA_HOME", javaHome.toString()));
  }

  /** Chooses from the system properties described above. */
  public static EnvdLaunch detect() {
    String mode = System.getProperty("sbx.envd.launch", "auto");
    Path root =
        Path.of(System.getProperty("sbx.repo.root", Path.of("..").toAbsolutePath().toString()))
            .toAbsolutePath()
            .normalize();
    Path launcher = distLauncher(root);
    return switch (mode) {
      case "dist" -> dist(launcher, currentJavaHome());
      case "classpath" -> classpath(currentJavaHome(), classpathFromProperties());
      case "auto" ->
          Files.isExecutable(launcher)
              ? dist(launcher, currentJavaHome())
              : classpath(currentJavaHome(), classpathFromProperties());
      default ->
          throw new IllegalArgumentException(
              "sbx.envd.launch must be dist, classpath or auto, not '" + mode + "'");
    };
  }

  private static String classpathFromProperties() {
    @Nullable String direct = System.getProperty("sbx.envd.classpath");
    if (direct != null && !direct.isBlank()) {
      return direct;
    }
    @Nullable String file = System.getProperty("sbx.envd.classpath.file");
    if (file == null) {
      throw new IllegalStateException(
          "no envd dist and no class path: build envd/target/envd-dist, or set sbx.envd.classpath"
              + " or sbx.envd.classpath.file (the it module's pom does)");
    }
    try {
      return Files.readString(Path.of(file), StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      throw new UncheckedIOException("reading envd class path from " + file, e);
    }
  }
}
