package dev.sbx.testing;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * A throwaway {@code redis-server} (Debian's package; {@code scripts/install-deps.sh test} installs
 * it) on a free port of 127.0.0.1, in its own temporary directory, without persistence (no RDB
 * snapshots, no AOF): data lives only as long as the process. {@link #restart()} stops it and
 * starts an empty one on the same port (a Redis that went away and came back); {@link #close()}
 * stops it and deletes the directory.
 */
public final class RedisServer implements AutoCloseable {
  private static final List<Path> BINARIES =
      List.of(Path.of("/usr/bin/redis-server"), Path.of("/usr/local/bin/redis-server"));
  private static final Duration READY_DEADLINE = Duration.ofSeconds(20);
  private static final Duration STOP_DEADLINE = Duration.ofSeconds(10);

  private final Path binary;
  private final Path directory;
  private final int port;
  private @Nullable Process process;

  private RedisServer(Path binary, Path directory, int port) {
    this.binary = binary;
    this.directory = directory;
    this.port = port;
  }

  /** Starts a Redis and returns once it answers {@code PING}. */
  public static RedisServer start() throws IOException {
    Path binary =
        BINARIES.stream()
            .filter(Files::isExecutable)
            .findFirst()
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "redis-server is not installed (looked in "
                            + BINARIES
                            + "); run scripts/install-deps.sh test as root"));
    Path directory = Files.createTempDirectory("sbx-redis-");
    RedisServer server = new RedisServer(binary, directory, freePort());
    try {
      server.launch();
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
    return server;
  }

  /** The port on 127.0.0.1. */
  public int port() {
    return port;
  }

  /** {@code redis://127.0.0.1:<port>}. */
  public String uri() {
    return "redis://127.0.0.1:" + port;
  }

  /** Whether the server process runs (false between {@link #stop()} and {@link #launch()}). */
  public synchronized boolean running() {
    Process p = process;
    return p != null && p.isAlive();
  }

  /** Stops the server (SIGTERM, then SIGKILL); its data is gone, the port is free. */
  public synchronized void stop() {
    Process p = process;
    process = null;
    if (p == null) {
      return;
    }
    p.destroy();
    try {
      if (!p.waitFor(STOP_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        if (!p.waitFor(STOP_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
          throw new IllegalStateException("redis-server " + p.pid() + " survived SIGKILL");
        }
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while stopping redis-server", e);
    }
  }

  /** Starts the server again on the same port (empty); returns once it answers {@code PING}. */
  public synchronized void launch() throws IOException {
    if (running()) {
      throw new IllegalStateException("redis-server already runs on port " + port);
    }
    Path log = directory.resolve("redis.log");
    ProcessBuilder builder =
        new ProcessBuilder(
                binary.toString(),
                "--port",
                Integer.toString(port),
                "--bind",
                "127.0.0.1",
                "--protected-mode",
                "yes",
                "--dir",
                directory.toString(),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--logfile",
                "")
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    Process started = builder.start();
    process = started;
    long deadline = System.nanoTime() + READY_DEADLINE.toNanos();
    while (true) {
      if (!started.isAlive()) {
        process = null;
        throw new IllegalStateException(
            "redis-server exited with " + started.exitValue() + " before answering: " + tail(log));
      }
      if (answersPing()) {
        return;
      }
      if (System.nanoTime() > deadline) {
        stop();
        throw new IllegalStateException(
            "redis-server did not answer PING on port " + port + " within " + READY_DEADLINE);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        stop();
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for redis-server", e);
      }
    }
  }

  /** {@link #stop()}, then {@link #launch()} on the same port: an empty Redis comes back. */
  public synchronized void restart() throws IOException {
    stop();
    launch();
  }

  @Override
  public synchronized void close() {
    try {
      stop();
    } finally {
      deleteTree(directory);
    }
  }

  private boolean answersPing() {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
      socket.setSoTimeout(1000);
      OutputStream out = socket.getOutputStream();
      out.write("PING\r\n".getBytes(US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      byte[] reply = in.readNBytes(7);
      return new String(reply, US_ASCII).equals("+PONG\r\n");
    } catch (IOException e) {
      return false;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  private static void deleteTree(Path root) {
    requireNonNull(root, "root");
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not delete " + root, e);
    }
  }
}
