package dev.sbx.orchestrator.network;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test servers and clients in network namespaces (busybox {@code nc}, since a JVM socket cannot
 * live in another namespace) and on the host. Everything it starts is stopped by {@link #close()}.
 * It only ever talks to addresses of the test's own bridge and namespaces.
 */
final class NetworkProbe implements AutoCloseable {

  static final String GREETING = "hello";

  private final List<Process> processes = new ArrayList<>();
  private final List<ServerSocket> hostServers = new ArrayList<>();

  /**
   * Starts {@code nc} in {@code netns} answering every connection on {@code port} with a greeting.
   */
  void serveInNamespace(String netns, int port) {
    try {
      Process server =
          new ProcessBuilder(
                  "ip",
                  "netns",
                  "exec",
                  netns,
                  "busybox",
                  "nc",
                  "-ll",
                  "-p",
                  Integer.toString(port),
                  "-e",
                  "/bin/echo",
                  GREETING)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      synchronized (processes) {
        processes.add(server);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * From the host: connects to {@code ip:port} and reads the greeting, retrying until {@code
   * deadline} (a server just started may not listen yet). Returns how long the successful attempt
   * took.
   */
  static Duration greetFromHost(String ip, int port, Duration deadline)
      throws InterruptedException {
    long end = System.nanoTime() + deadline.toNanos();
    IOException last = null;
    while (System.nanoTime() < end) {
      long start = System.nanoTime();
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress(ip, port), 2000);
        socket.setSoTimeout(2000);
        String read = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (read.strip().equals(GREETING)) {
          return Duration.ofNanos(System.nanoTime() - start);
        }
      } catch (IOException e) {
        last = e;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no greeting from " + ip + ":" + port + " within " + deadline, last);
  }

  /**
   * From inside {@code netns}: one connection attempt to {@code ip:port} with a one-second connect
   * timeout; true if the greeting came back.
   */
  static boolean greetFromNamespace(String netns, String ip, int port)
      throws IOException, InterruptedException {
    Process client =
        new ProcessBuilder(
                "ip",
                "netns",
                "exec",
                netns,
                "busybox",
                "nc",
                "-w",
                "1",
                ip,
                Integer.toString(port))
            .redirectErrorStream(true)
            .start();
    client.getOutputStream().close();
    try (InputStream out = client.getInputStream()) {
      if (!client.waitFor(10, TimeUnit.SECONDS)) {
        client.destroyForcibly().waitFor();
        throw new AssertionError("nc in " + netns + " did not finish");
      }
      return new String(out.readAllBytes(), StandardCharsets.UTF_8).strip().equals(GREETING);
    }
  }

  /**
   * A host server on {@code ip} (an ephemeral port) that greets every connection; {@code accepted}
   * counts them.
   */
  int serveOnHost(String ip, AtomicInteger accepted) throws IOException {
    ServerSocket server = new ServerSocket();
    server.bind(new InetSocketAddress(InetAddress.getByName(ip), 0));
    synchronized (hostServers) {
      hostServers.add(server);
    }
    Thread.ofVirtual()
        .start(
            () -> {
              while (!server.isClosed()) {
                try (Socket socket = server.accept();
                    OutputStream out = socket.getOutputStream()) {
                  accepted.incrementAndGet();
                  out.write((GREETING + "\n").getBytes(StandardCharsets.UTF_8));
                } catch (IOException e) {
                  // closed
                }
              }
            });
    return server.getLocalPort();
  }

  @Override
  public void close() throws Exception {
    synchronized (processes) {
      for (Process process : processes) {
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
      }
      processes.clear();
    }
    synchronized (hostServers) {
      for (ServerSocket server : hostServers) {
        server.close();
      }
      hostServers.clear();
    }
  }
}
