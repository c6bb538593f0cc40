package dev.sbx.orchestrator.runtime;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * A private network namespace for runtime tests ({@code ip netns add sbxt-…}) holding a loopback
 * interface that is up, and HTTP requests to its loopback made from a thread that entered it
 * ({@code setns(2)}): no address outside the namespace, no packet leaves it. {@link #createLinked}
 * adds an {@code eth0} with an address, its veth peer in a second private namespace from which the
 * requests are made (for runtimes with their own network stack, which the namespace's loopback does
 * not reach); the pair's /30 is drawn from {@code 10.231.240.0/20} and exists only inside the two
 * namespaces.
 */
@SuppressWarnings("restricted") // setns(2) is what this class is for
final class TestNetns implements AutoCloseable {
  private static final int O_RDONLY = 0;
  private static final int O_CLOEXEC = 0x80000;
  private static final int CLONE_NEWNET = 0x40000000;
  private static final MethodHandle OPEN;
  private static final MethodHandle SETNS;
  private static final MethodHandle CLOSE;

  static {
    Linker linker = Linker.nativeLinker();
    OPEN =
        linker.downcallHandle(
            linker.defaultLookup().find("open").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    SETNS =
        linker.downcallHandle(
            linker.defaultLookup().find("setns").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    CLOSE =
        linker.downcallHandle(
            linker.defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT));
  }

  private final String name;
  private final @Nullable String peer;
  private final @Nullable String address;

  private TestNetns(String name, @Nullable String peer, @Nullable String address) {
    this.name = name;
    this.peer = peer;
    this.address = address;
  }

  static TestNetns create() throws IOException, InterruptedException {
    String name = "sbxt-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
    run("ip", "netns", "add", name);
    TestNetns netns = new TestNetns(name, null, null);
    try {
      run("ip", "-n", name, "link", "set", "lo", "up");
    } catch (IOException | RuntimeException e) {
      netns.close();
      throw e;
    }
    return netns;
  }

  /**
   * A namespace whose {@code eth0} has {@code 10.231.x.y+2/30}, its veth peer ({@code y+1}) in a
   * second namespace {@code <name>p}, from which {@link #httpStatus} asks {@code y+2}.
   */
  static TestNetns createLinked() throws IOException, InterruptedException {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    String name = "sbxt-" + Long.toHexString(random.nextLong() >>> 16);
    String subnet = "10.231." + (240 + random.nextInt(16)) + ".";
    int base = 4 * random.nextInt(64);
    String address = subnet + (base + 2);
    TestNetns netns = new TestNetns(name, name + "p", address);
    try {
      run("ip", "netns", "add", name);
      run("ip", "netns", "add", name + "p");
      run(
          "ip",
          "-n",
          name + "p",
          "link",
          "add",
          "sbxt-peer",
          "type",
          "veth",
          "peer",
          "name",
          "eth0",
          "netns",
          name);
      run("ip", "-n", name, "address", "add", address + "/30", "dev", "eth0");
      run("ip", "-n", name, "link", "set", "eth0", "up");
      run("ip", "-n", name, "link", "set", "lo", "up");
      run(
          "ip",
          "-n",
          name + "p",
          "address",
          "add",
          subnet + (base + 1) + "/30",
          "dev",
          "sbxt-peer");
      run("ip", "-n", name + "p", "link", "set", "sbxt-peer", "up");
    } catch (IOException | RuntimeException e) {
      netns.close();
      throw e;
    }
    return netns;
  }

  /** The name of the namespace ({@code ip netns}). */
  String name() {
    return name;
  }

  /** The address of {@code eth0} in a {@link #createLinked} namespace, or null. */
  @Nullable String address() {
    return address;
  }

  Path path() {
    return Path.of("/run/netns", name);
  }

  /**
   * {@code GET path} to {@code 127.0.0.1:port} in the namespace (in a linked one: to its {@code
   * eth0} address, from the peer namespace): the status code, or -1 if the connection is refused or
   * unanswered within 2 s (nothing listens yet, or no one holds the address).
   */
  int httpStatus(int port, String path) throws IOException, InterruptedException {
    CompletableFuture<Integer> status = new CompletableFuture<>();
    Thread.ofPlatform()
        .name("netns-" + name)
        .daemon()
        .start(
            () -> {
              try {
                enter(peer != null ? Path.of("/run/netns", peer) : path());
                InetAddress target =
                    address != null
                        ? InetAddress.getByName(address)
                        : InetAddress.getLoopbackAddress();
                status.complete(get(target, port, path));
              } catch (Throwable e) {
                status.completeExceptionally(e);
              }
            });
    try {
      return status.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  private static int get(InetAddress target, int port, String path) throws IOException {
    try (Socket socket = new Socket()) {
      try {
        socket.connect(new InetSocketAddress(target, port), 2000);
      } catch (java.net.ConnectException | java.net.SocketTimeoutException refusedOrUnanswered) {
        return -1;
      }
      socket.setSoTimeout(5000);
      OutputStream out = socket.getOutputStream();
      out.write(
          ("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      String response = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
      if (!response.startsWith("HTTP/1.1 ")) {
        throw new IOException("not an HTTP response: " + response);
      }
      return Integer.parseInt(response.substring(9, 12));
    }
  }

  /** Moves the calling (platform) thread into the network namespace at {@code path}. */
  private static void enter(Path path) throws Throwable {
    int fd;
    try (Arena arena = Arena.ofConfined()) {
      fd = (int) OPEN.invokeExact(arena.allocateFrom(path.toString()), O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) {
      throw new IOException("open " + path + " failed");
    }
    try {
      int result = (int) SETNS.invokeExact(fd, CLONE_NEWNET);
      if (result != 0) {
        throw new IOException("setns " + path + " failed");
      }
    } finally {
      int ignored = (int) CLOSE.invokeExact(fd);
    }
  }

  @Override
  public void close() throws IOException, InterruptedException {
    if (Files.exists(path())) {
      run("ip", "netns", "delete", name);
    }
    if (peer != null && Files.exists(Path.of("/run/netns", peer))) {
      run("ip", "netns", "delete", peer);
    }
  }

  private static void run(String... command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (process.waitFor() != 0) {
      throw new IOException(String.join(" ", command) + " failed: " + output);
    }
  }
}
