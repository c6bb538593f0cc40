package dev.sbx.testing;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * A process on the host whose stdout and stderr go to a log file, and whose whole process tree is
 * killed when it is closed: the process, its children, and the processes they left behind.
 *
 * <p>When {@code tini} is installed ({@code scripts/install-deps.sh test} installs it), the command
 * runs under {@code tini -s}: tini registers as a child subreaper, so a process that double-forks
 * or whose parent exits is re-parented to tini instead of to init and is still found (and killed)
 * as a descendant. Without tini only processes that still have a parent in the tree are found.
 */
public final class HostProcess implements AutoCloseable {
  private static final Duration GRACE = Duration.ofSeconds(3);
  private static final Duration KILL_WAIT = Duration.ofSeconds(10);
  private static final List<Path> TINI = List.of(Path.of("/usr/bin/tini"), Path.of("/bin/tini"));

  private final Process process;
  private final Path logFile;
  private final boolean subreaper;

  private HostProcess(Process process, Path logFile, boolean subreaper) {
    this.process = process;
    this.logFile = logFile;
    this.subreaper = subreaper;
  }

  /**
   * Starts {@code command} with the current environment plus {@code environment} (a {@code null}
   * value is not allowed; to drop a variable, start from a different environment). Output of both
   * streams is appended to {@code logFile}, whose directory is created.
   */
  public static HostProcess start(
      List<String> command, Map<String, String> environment, Path logFile) throws IOException {
    requireNonNull(command, "command");
    requireNonNull(environment, "environment");
    requireNonNull(logFile, "logFile");
    if (command.isEmpty()) {
      throw new IllegalArgumentException("command is empty");
    }
    Optional<Path> tini = tini();
    List<String> argv = new ArrayList<>();
    tini.ifPresent(t -> argv.addAll(List.of(t.toString(), "-s", "-g", "--")));
    argv.addAll(command);
    Path parent = logFile.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    ProcessBuilder builder =
        new ProcessBuilder(argv)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    builder.environment().putAll(environment);
    return new HostProcess(builder.start(), logFile, tini.isPresent());
  }

  /** Whether {@code tini} is installed, so that orphans stay in the tree. */
  public static boolean subreaperAvailable() {
    return tini().isPresent();
  }

  private static Optional<Path> tini() {
    return TINI.stream().filter(Files::isExecutable).findFirst();
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** The exit code once the process has ended. */
  public Optional<Integer> exitCode() {
    return process.isAlive() ? Optional.empty() : Optional.of(process.exitValue());
  }

  public Path logFile() {
    return logFile;
  }

  /** Whether processes that lose their parent stay in this tree (tini is the subreaper). */
  public boolean reapsOrphans() {
    return subreaper;
  }

  /** The process and every live descendant, parents before children. */
  public List<ProcessHandle> tree() {
    List<ProcessHandle> tree = new ArrayList<>();
    tree.add(process.toHandle());
    try (Stream<ProcessHandle> descendants = process.descendants()) {
      descendants.forEach(tree::add);
    }
    return tree;
  }

  /** The last {@code maxBytes} of the log, for failure messages. */
  public String logTail(int maxBytes) {
    try {
      byte[] all = Files.readAllBytes(logFile);
      int from = Math.max(0, all.length - maxBytes);
      return new String(all, from, all.length - from, java.nio.charset.StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(log " + logFile + " unreadable: " + e + ")";
    }
  }

  /**
   * Stops the tree: SIGTERM to the process (tini forwards it to the command's process group), up to
   * 3 s for it to end, then SIGKILL to every process of the tree still alive, and waits up to 10 s
   * for all of them. The tree is read before anything is signalled, so processes that lose their
   * parent while the tree stops are still killed.
   *
   * @throws IllegalStateException when a process of the tree is still alive after the wait
   */
  @Override
  public void close() {
    Set<ProcessHandle> doomed = new LinkedHashSet<>(tree());
    process.destroy();
    await(List.of(process.toHandle()), GRACE);
    doomed.addAll(tree());
    for (ProcessHandle handle : doomed) {
      handle.destroyForcibly();
    }
    List<ProcessHandle> survivors = await(doomed, KILL_WAIT);
    if (!survivors.isEmpty()) {
      throw new IllegalStateException("processes still alive after SIGKILL: " + survivors);
    }
  }

  private static List<ProcessHandle> await(Iterable<ProcessHandle> handles, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<ProcessHandle> survivors = new ArrayList<>();
    for (ProcessHandle handle : handles) {
      CompletableFuture<ProcessHandle> exit = handle.onExit();
      long left = Math.max(0, deadline - System.nanoTime());
      try {
        exit.get(left, TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        survivors.add(handle);
      } catch (ExecutionException e) {
        throw new IllegalStateException("waiting for " + handle.pid(), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        survivors.add(handle);
      }
    }
    return survivors;
  }

  @Override
  public String toString() {
    return "HostProcess[pid=" + process.pid() + ", log=" + logFile + "]";
  }
}
