package dev.sbx.orchestrator.lifecycle;

import dev.sbx.connect.ConnectClient;
import dev.sbx.connect.ConnectException;
import dev.sbx.connect.ServerStream;
import dev.sbx.proto.process.ProcessConfig;
import dev.sbx.proto.process.StartRequest;
import dev.sbx.proto.process.StartResponse;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * Starts a template's {@code startCommand} in a sandbox whose envd is healthy and {@code /init}ed,
 * through envd's own process API ({@code process.Process/Start}, Connect JSON): as the sandbox's
 * default user in its default workdir with its environment, in the background. It returns once envd
 * reports the process started (its {@code start} event); the stream is then closed, which leaves
 * the process running (envd's processes outlive their stream). Its readiness is not awaited: issue
 * 3 names none and templates have no ready command. The process carries the tag {@link #TAG}, so
 * {@code commands.list()} shows it and it can be killed by tag.
 */
@SuppressWarnings("StringConcatToTextBlock") // error-prone 2.52.0 crashes in this check here
final class StartCommand {
  /** The tag of the start command's process in envd. */
  static final String TAG = "start-command";

  private StartCommand() {}

  /**
   * The command line: {@code /bin/bash -l -c <command>} where the rootfs has bash (what E2B runs a
   * template's start command with), else {@code /bin/sh -c <command>}.
   */
  static List<String> commandLine(Path rootfs, String command) {
    // usr-merged roots link bin → usr/bin (relative): resolved inside the rootfs
    return Files.isExecutable(rootfs.resolve("bin/bash"))
        ? List.of("/bin/bash", "-l", "-c", command)
        : List.of("/bin/sh", "-c", command);
  }

  /**
   * Starts {@code command} in the sandbox whose envd listens on {@code address}; waits at most
   * {@code timeout} for envd to report it started.
   *
   * @throws EnvdException if envd refused or failed to start it (the message says why), or did not
   *     report it started in time
   */
  static void start(
      String address, Path rootfs, String command, @Nullable String accessToken, Duration timeout) {
    // the call has no timeout of its own: envd kills a process at its call's deadline (one
    // deadline for the process and its stream); the wait is bounded here instead
    CompletableFuture<@Nullable Void> started = new CompletableFuture<>();
    Thread caller =
        Thread.ofVirtual()
            .name("start-command-" + address)
            .start(
                () -> {
                  try {
                    startNow(address, rootfs, command, accessToken, timeout);
                    started.complete(null);
                  } catch (Throwable e) {
                    started.completeExceptionally(e);
                  }
                });
    try {
      started.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      caller.interrupt();
      throw new EnvdException(
          "envd at " + address + " did not start the template's start command within " + timeout);
    } catch (InterruptedException e) {
      caller.interrupt();
      Thread.currentThread().interrupt();
      throw new EnvdException("interrupted while starting the template's start command", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      if (cause instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new EnvdException("starting the template's start command failed", cause);
    }
  }

  private static void startNow(
      String address, Path rootfs, String command, @Nullable String accessToken, Duration timeout) {
    List<String> line = commandLine(rootfs, command);
    StartRequest request =
        StartRequest.newBuilder()
            .setProcess(
                ProcessConfig.newBuilder()
                    .setCmd(line.getFirst())
                    .addAllArgs(line.subList(1, line.size())))
            .setTag(TAG)
            .setStdin(false)
            .build();
    ConnectClient.Builder builder =
        ConnectClient.builder(URI.create("http://" + address + ":" + EnvdClient.ENVD_PORT))
            .connectTimeout(timeout);
    if (accessToken != null) {
      builder.header("X-Access-Token", accessToken);
    }
    try (ConnectClient envd = builder.build();
        ServerStream<StartResponse> events =
            envd.serverStream(
                "process.Process/Start", request, StartResponse.getDefaultInstance())) {
      for (StartResponse response : events) {
        if (response.getEvent().hasStart()) {
          return;
        }
      }
      throw new EnvdException(
          "envd at " + address + " ended the start command's stream before starting it");
    } catch (ConnectException e) {
      throw new EnvdException(
          "envd at "
              + address
              + " could not start the template's start command ("
              + e.code()
              + "): "
              + e.getMessage(),
          e);
    }
  }
}
