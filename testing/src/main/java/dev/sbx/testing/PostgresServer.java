package dev.sbx.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * A throwaway PostgreSQL (Debian's binaries, {@code /usr/lib/postgresql/<v>/bin}) for tests: a
 * fresh cluster in a temp dir, run as a throwaway non-root user ({@link HostUser}) on a free
 * loopback port, trust authentication for user {@code sbx}. {@link #close()} stops the server and
 * removes the directory and the user. Needs root (for the user).
 */
public final class PostgresServer implements AutoCloseable {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final HostUser user;
  private final Path dir;
  private final int port;
  private @Nullable Process process;

  private PostgresServer(HostUser user, Path dir, int port) {
    this.user = user;
    this.dir = dir;
    this.port = port;
  }

  /** The directory of {@code initdb} and {@code postgres}, or null if PostgreSQL is missing. */
  public static @Nullable Path binaries() {
    Path root = Path.of("/usr/lib/postgresql");
    if (!Files.isDirectory(root)) {
      return null;
    }
    try (Stream<Path> versions = Files.list(root)) {
      return versions
          .map(v -> v.resolve("bin"))
          .filter(bin -> Files.isExecutable(bin.resolve("postgres")))
          .max(Comparator.comparing(Path::toString))
          .orElse(null);
    } catch (IOException e) {
      return null;
    }
  }

  /** Whether this machine can run it: PostgreSQL's binaries and root. */
  public static boolean available() {
    return binaries() != null && "root".equals(System.getProperty("user.name"));
  }

  public static PostgresServer start() {
    Path bin = binaries();
    if (bin == null) {
      throw new IllegalStateException("PostgreSQL is not installed (scripts/install-deps.sh test)");
    }
    HostUser user = HostUser.throwaway();
    Path dir = null;
    PostgresServer server = null;
    try {
      dir = Files.createTempDirectory("sbx-pg");
      run(List.of("chown", "-R", user.name() + ":", dir.toString()));
      Path data = dir.resolve("data");
      run(
          List.of(
              "setpriv",
              "--reuid=" + user.uid(),
              "--regid=" + user.gid(),
              "--init-groups",
              bin.resolve("initdb").toString(),
              "-D",
              data.toString(),
              "-U",
              "sbx",
              "--auth=trust",
              "--encoding=UTF8",
              "--no-sync"));
      int port = freePort();
      server = new PostgresServer(user, dir, port);
      ProcessBuilder builder =
          new ProcessBuilder(
              "setpriv",
              "--reuid=" + user.uid(),
              "--regid=" + user.gid(),
              "--init-groups",
              bin.resolve("postgres").toString(),
              "-D",
              data.toString(),
              "-p",
              String.valueOf(port),
              "-h",
              "127.0.0.1",
              "-k",
              dir.toString(),
              "-c",
              "fsync=off");
      builder.redirectErrorStream(true);
      builder.redirectOutput(dir.resolve("postgres.log").toFile());
      server.process = builder.start();
      server.awaitReady();
      return server;
    } catch (IOException | RuntimeException e) {
      if (server != null) {
        server.close();
      } else {
        if (dir != null) {
          deleteTree(dir);
        }
        user.close();
      }
      throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
    }
  }

  private void awaitReady() {
    Instant deadline = Instant.now().plus(START_TIMEOUT);
    while (Instant.now().isBefore(deadline)) {
      Process p = process;
      if (p != null && !p.isAlive()) {
        throw new IllegalStateException("postgres exited: see " + dir.resolve("postgres.log"));
      }
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
        // accepting connections; the postmaster may still be starting up, so retry a query later
        return;
      } catch (IOException e) {
        try {
          Thread.sleep(100);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted", interrupted);
        }
      }
    }
    throw new IllegalStateException("postgres did not listen within " + START_TIMEOUT);
  }

  /** {@code jdbc:postgresql://127.0.0.1:<port>/postgres}. */
  public String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
  }

  /** The superuser (trust authentication, no password). */
  public String user() {
    return "sbx";
  }

  public int port() {
    return port;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static void run(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String output = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      List<Path> all = new ArrayList<>(paths.toList());
      all.sort(Comparator.reverseOrder());
      for (Path p : all) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // best effort: a temp dir left behind is reported by nothing else
    }
  }

  @Override
  public void close() {
    Process p = process;
    if (p != null) {
      p.destroy(); // SIGTERM: smart shutdown
      try {
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          p.waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    deleteTree(dir);
    user.close();
  }
}
