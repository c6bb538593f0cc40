package dev.sbx.testing;

import static java.util.Objects.requireNonNull;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A Node project in the repository (a folder with {@code package.json} and a committed {@code
 * package-lock.json}) whose commands the tests run with {@code node} and {@code npm} from the
 * {@code PATH}, every output line copied to the build log as it comes.
 *
 * <p>{@link #installDependencies} runs {@code npm ci} only when {@code node_modules} is missing or
 * the lock file changed since the last install (a SHA-256 of the lock is kept in {@code
 * node_modules/.sbx-lock-sha256}), so a machine that installed once runs the suite offline.
 */
public final class NodeProject {
  private static final String STAMP = ".sbx-lock-sha256";
  private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(10);

  private final Path directory;
  private final PrintStream log;

  private NodeProject(Path directory, PrintStream log) {
    this.directory = directory;
    this.log = log;
  }

  /**
   * The project in {@code directory}, logging to {@code System.out} (the Maven log in failsafe).
   */
  public static NodeProject at(Path directory) {
    return at(directory, System.out);
  }

  public static NodeProject at(Path directory, PrintStream log) {
    requireNonNull(directory, "directory");
    requireNonNull(log, "log");
    Path dir = directory.toAbsolutePath().normalize();
    for (String file : List.of("package.json", "package-lock.json")) {
      if (!Files.isRegularFile(dir.resolve(file))) {
        throw new IllegalArgumentException(dir + " has no " + file);
      }
    }
    return new NodeProject(dir, log);
  }

  public Path directory() {
    return directory;
  }

  /**
   * Runs {@code npm ci} when {@code node_modules} is missing or older than the lock file.
   *
   * @return whether {@code npm ci} ran
   * @throws IllegalStateException when {@code npm ci} fails
   */
  public boolean installDependencies() throws IOException, InterruptedException {
    String lockHash = sha256(directory.resolve("package-lock.json"));
    Path stamp = directory.resolve("node_modules").resolve(STAMP);
    if (Files.isRegularFile(stamp) && Files.readString(stamp).strip().equals(lockHash)) {
      return false;
    }
    int exit =
        run(List.of("npm", "ci", "--no-audit", "--no-fund"), Map.of(), INSTALL_TIMEOUT, "npm ci");
    if (exit != 0) {
      throw new IllegalStateException("npm ci in " + directory + " failed with exit code " + exit);
    }
    Files.writeString(stamp, lockHash + "\n");
    return true;
  }

  /**
   * Runs {@code command} in the project folder with the current environment plus {@code
   * environment}; each line of its output (stdout and stderr merged) goes to the log prefixed with
   * {@code [label] }. A command still running after {@code timeout} is killed with its children.
   *
   * @return the exit code
   * @throws IllegalStateException when the timeout expired
   */
  public int run(
      List<String> command, Map<String, String> environment, Duration timeout, String label)
      throws IOException, InterruptedException {
    requireNonNull(command, "command");
    requireNonNull(environment, "environment");
    requireNonNull(timeout, "timeout");
    requireNonNull(label, "label");
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(directory.toFile())
            .redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    builder.environment().putAll(environment);
    log.println("[" + label + "] $ " + String.join(" ", command));
    Process process = builder.start();
    Thread copier =
        Thread.ofPlatform()
            .name("output of " + label)
            .start(() -> copyLines(process, "[" + label + "] "));
    boolean exited = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (!exited) {
      killTree(process);
    }
    copier.join(Duration.ofSeconds(10));
    if (!exited) {
      throw new IllegalStateException(
          String.join(" ", command) + " did not finish within " + timeout + "; killed");
    }
    return process.exitValue();
  }

  private void copyLines(Process process, String prefix) {
    try (BufferedReader reader =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        log.println(prefix + line);
      }
    } catch (IOException e) {
      log.println(prefix + "(output lost: " + e + ")");
    }
  }

  private static void killTree(Process process) throws InterruptedException {
    List<ProcessHandle> tree = new ArrayList<>();
    tree.add(process.toHandle());
    try (Stream<ProcessHandle> descendants = process.descendants()) {
      descendants.forEach(tree::add);
    }
    tree.forEach(ProcessHandle::destroyForcibly);
    process.waitFor(10, TimeUnit.SECONDS);
  }

  private static String sha256(Path file) throws IOException {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(digest.digest(Files.readAllBytes(file)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  @Override
  public String toString() {
    return "NodeProject[" + directory + "]";
  }
}
