package dev.sbx.orchestrator.network;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Runs one host command ({@code ip}, {@code nft}) with a script on its standard input and collects
 * its output. One forked process per call: callers batch their work into the script.
 */
final class HostCommand {

  private HostCommand() {}

  /** What a finished command returned. */
  record Result(List<String> command, int exitCode, String stdout, String stderr) {
    boolean ok() {
      return exitCode == 0;
    }

    /** Throws {@link NetworkException} with the command's stderr unless it succeeded. */
    Result check() {
      if (exitCode != 0) {
        throw new NetworkException(
            String.join(" ", command) + " failed (exit " + exitCode + "): " + stderr.strip());
      }
      return this;
    }
  }

  /** Runs {@code command}, feeding it {@code stdin}, and waits for it to exit. */
  static Result run(List<String> command, String stdin) {
    requireNonNull(command, "command");
    requireNonNull(stdin, "stdin");
    Process process;
    try {
      process = new ProcessBuilder(command).start();
    } catch (IOException e) {
      throw new NetworkException("cannot start " + command.getFirst() + ": " + e.getMessage(), e);
    }
    CompletableFuture<String> stderr = new CompletableFuture<>();
    Thread.ofVirtual().start(() -> stderr.complete(readAll(process.getErrorStream())));
    try (OutputStream in = process.getOutputStream()) {
      in.write(stdin.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      // the command exited early; its exit code and stderr say why
    }
    String stdout = readAll(process.getInputStream());
    try {
      int exit = process.waitFor();
      return new Result(List.copyOf(command), exit, stdout, stderr.join());
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new NetworkException("interrupted while running " + command.getFirst(), e);
    }
  }

  /** Runs {@code command} with empty standard input. */
  static Result run(String... command) {
    return run(List.of(command), "");
  }

  private static String readAll(InputStream stream) {
    try (stream) {
      return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
