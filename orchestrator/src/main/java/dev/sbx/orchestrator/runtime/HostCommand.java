package dev.sbx.orchestrator.runtime;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/** Runs a host command (runc, runsc, nsenter) to completion with a deadline. */
final class HostCommand {
  private static final File DEV_NULL = new File("/dev/null");

  /** What the command did: exit code (-1 if killed at the deadline), its output. */
  record Result(int exitCode, String stdout, String stderr) {
    boolean succeeded() {
      return exitCode == 0;
    }

    /** stderr without surrounding blank space (or the exit code if empty), for error messages. */
    String error() {
      String text = stderr.strip();
      return text.isEmpty() ? "exit code " + exitCode : text;
    }
  }

  private HostCommand() {}

  /** Runs {@code args}, stdin from /dev/null, capturing stdout and stderr. */
  static Result run(List<String> args, Duration timeout) {
    return run(args, timeout, Map.of());
  }

  /** As {@link #run(List, Duration)} with more environment. */
  static Result run(List<String> args, Duration timeout, Map<String, String> env) {
    ProcessBuilder builder = new ProcessBuilder(args).redirectInput(DEV_NULL);
    builder.environment().putAll(env);
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new SandboxRuntimeException("cannot run " + args.getFirst() + ": " + e.getMessage(), e);
    }
    AtomicReference<String> stdout = new AtomicReference<>("");
    AtomicReference<String> stderr = new AtomicReference<>("");
    Thread outReader = Thread.ofVirtual().start(() -> stdout.set(drain(process.getInputStream())));
    Thread errReader = Thread.ofVirtual().start(() -> stderr.set(drain(process.getErrorStream())));
    try {
      int exitCode;
      if (process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        exitCode = process.exitValue();
      } else {
        process.destroyForcibly().waitFor();
        exitCode = -1;
      }
      // a background process left by the command may hold the pipes open: don't wait for it
      outReader.join(Duration.ofSeconds(2));
      errReader.join(Duration.ofSeconds(2));
      if (exitCode == -1) {
        return new Result(-1, stdout.get(), "timed out after " + timeout + ": " + stderr.get());
      }
      return new Result(exitCode, stdout.get(), stderr.get());
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new SandboxRuntimeException("interrupted while running " + args, e);
    }
  }

  /**
   * Runs {@code args} with stdin and stdout on /dev/null and stderr to {@code stderr}, giving the
   * exit code (-1 if killed at the deadline): for {@code run -d}, whose container inherits them (a
   * pipe would never reach EOF, a file would grow).
   */
  static int runDetached(List<String> args, ProcessBuilder.Redirect stderr, Duration timeout) {
    return runDetached(args, stderr, timeout, Map.of());
  }

  /** As {@link #runDetached(List, ProcessBuilder.Redirect, Duration)} with more environment. */
  static int runDetached(
      List<String> args,
      ProcessBuilder.Redirect stderr,
      Duration timeout,
      Map<String, String> env) {
    ProcessBuilder builder =
        new ProcessBuilder(args)
            .redirectInput(DEV_NULL)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(stderr);
    builder.environment().putAll(env);
    try {
      Process process = builder.start();
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor();
        return -1;
      }
      return process.exitValue();
    } catch (IOException e) {
      throw new SandboxRuntimeException("cannot run " + args.getFirst() + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SandboxRuntimeException("interrupted while running " + args, e);
    }
  }

  private static String drain(InputStream in) {
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return ""; // the process was killed at its deadline and its pipe closed
    }
  }
}
