package dev.sbx.orchestrator;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sbx.connect.ConnectClient;
import dev.sbx.connect.ServerStream;
import dev.sbx.orchestrator.fixture.TestTemplate;
import dev.sbx.orchestrator.lifecycle.LifecycleSettings;
import dev.sbx.orchestrator.lifecycle.SandboxLifecycle;
import dev.sbx.orchestrator.lifecycle.SandboxNotFoundException;
import dev.sbx.orchestrator.lifecycle.WarmPoolSettings;
import dev.sbx.orchestrator.network.Ipv4Cidr;
import dev.sbx.orchestrator.network.NetworkConfig;
import dev.sbx.orchestrator.network.NetworkSlotPool;
import dev.sbx.orchestrator.rootfs.DirectoryTree;
import dev.sbx.orchestrator.runtime.RuncSettings;
import dev.sbx.orchestrator.template.Template;
import dev.sbx.orchestrator.template.TemplateDirectory;
import dev.sbx.orchestrator.template.TemplateSettings;
import dev.sbx.proto.orchestrator.CreateSandboxRequest;
import dev.sbx.proto.orchestrator.EgressPolicy;
import dev.sbx.proto.orchestrator.Sandbox;
import dev.sbx.proto.orchestrator.SandboxServiceGrpc;
import dev.sbx.proto.process.ProcessConfig;
import dev.sbx.proto.process.ProcessEvent;
import dev.sbx.proto.process.StartRequest;
import dev.sbx.proto.process.StartResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What a sandbox sees of its surroundings, through the orchestrator's gRPC API (root, runc,
 * nftables, envd's dist): the template's start command runs after a create (cold and from the warm
 * pool), {@code /etc/resolv.conf} names the node's name servers and a lookup reaches one where the
 * egress policy allows it, and a sandbox reaches neither its neighbour, nor a service of the host,
 * nor the metadata address.
 *
 * <p>Layout {@code sbxo}: bridge {@code sbxo0}, sandboxes in {@code 10.240.0.0/24}, containers
 * {@code sbxo-…}, cgroups below {@code /sbxo}. "Outside" is a namespace of the test's own, {@code
 * sbxox}, linked to the host by the veth {@code sbxox0} ({@code 10.240.1.1/30} on the host, {@code
 * 10.240.1.2} inside), where the test runs its name server: forwarding is switched on for those two
 * interfaces only, so no packet leaves the machine. Everything is removed after the class, also on
 * failure, and {@link LeakInventory} must find nothing.
 */
class SandboxEnvironmentTest {
  static final NetworkConfig NETWORK =
      new NetworkConfig("sbxo", "sbxo0", Ipv4Cidr.parse("10.240.0.0/24"), 0);
  static final String CGROUP_PARENT = "sbxo";
  static final Duration WITHIN = Duration.ofSeconds(60);
  static final AtomicInteger IDS = new AtomicInteger();

  static final String OUTSIDE = "sbxox";
  static final String OUTSIDE_HOST_END = "sbxox0";
  static final String OUTSIDE_IP = "10.240.1.2";
  static final Ipv4Cidr OUTSIDE_NET = Ipv4Cidr.parse("10.240.1.0/30");

  /** The name the test's name server answers, and its answer (TEST-NET-1: never contacted). */
  static final String NAME = "probe.sbxo.test";

  static final String ANSWER = "192.0.2.77";

  static final String START_COMMAND = "id -un > /tmp/started; pwd >> /tmp/started; exec sleep 600";

  static Path workDir;
  static RuncSettings runc;
  static Orchestrator orchestrator;
  static OrchestratorConfig config;
  static ManagedChannel channel;
  static SandboxServiceGrpc.SandboxServiceBlockingStub sandboxes;
  static @Nullable DatagramSocket nameServerSocket;
  static final AtomicInteger QUERIES = new AtomicInteger();

  @BeforeAll
  static void start() throws Exception {
    assertThat(Files.getAttribute(Path.of("/proc/self"), "unix:uid"))
        .as("these tests need root")
        .isEqualTo(0);
    removeOutside();
    workDir = Files.createTempDirectory("sbxo-");
    Path templates = workDir.resolve("templates");
    for (String id : List.of("starter", "starter-warm", "plain")) {
      Path dir = templates.resolve(id);
      TestTemplate.build(dir.resolve(Template.ROOTFS_DIR));
      TemplateSettings d = TemplateSettings.DEFAULT;
      TemplateDirectory.writeSettings(
          dir,
          id.equals("plain")
              ? d
              : new TemplateSettings(
                  d.cpuCount(),
                  d.memoryMB(),
                  d.defaultUser(),
                  d.defaultWorkdir(),
                  START_COMMAND,
                  d.envVars(),
                  null,
                  null,
                  0,
                  0));
    }
    startOutside();
    runc =
        new RuncSettings(
            Path.of("runc"),
            workDir.resolve("runc-state"),
            workDir.resolve("sandboxes"),
            "sbxo-",
            CGROUP_PARENT);
    config =
        new OrchestratorConfig(
                InetAddress.getLoopbackAddress(),
                0,
                templates,
                runc,
                NETWORK,
                new LifecycleSettings(
                    TestTemplate.envdDist(),
                    4,
                    WITHIN,
                    Duration.ofMillis(100),
                    List.of(OUTSIDE_IP)))
            .withNodeProxy("127.0.0.1", 0)
            .withWarmPool(new WarmPoolSettings(0, Map.of("starter-warm", 1)));
    orchestrator = Orchestrator.start(config);
    // forwarding for the bridge and the outside link only; the host-wide switch is left alone
    Files.writeString(Path.of("/proc/sys/net/ipv4/conf", NETWORK.bridge(), "forwarding"), "1");
    Files.writeString(Path.of("/proc/sys/net/ipv4/conf", OUTSIDE_HOST_END, "forwarding"), "1");
    channel =
        Grpc.newChannelBuilderForAddress(
                "127.0.0.1", orchestrator.port(), InsecureChannelCredentials.create())
            .build();
    sandboxes = SandboxServiceGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.MINUTES);
  }

  @AfterAll
  static void stop() throws Exception {
    List<String> left = new ArrayList<>();
    try {
      if (channel != null) {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      if (orchestrator != null) {
        orchestrator.close();
      }
      if (config != null) {
        left.addAll(LeakInventory.find(config, null));
      }
    } finally {
      DatagramSocket socket = nameServerSocket;
      if (socket != null) {
        socket.close();
      }
      removeOutside();
      left.addAll(NetworkSlotPool.leftovers(NETWORK));
      NetworkSlotPool.removeAll(NETWORK);
      if (runc != null) {
        left.addAll(RuncTestNode.removeRuncLeftovers(runc));
      }
      if (workDir != null) {
        DirectoryTree.delete(workDir);
      }
    }
    assertThat(left).as("left on the host after the orchestrator stopped").isEmpty();
  }

  @AfterEach
  void deleteEverySandbox() {
    SandboxLifecycle lifecycle = orchestrator.lifecycle();
    for (var sandbox : lifecycle.list()) {
      try {
        lifecycle.delete(sandbox.sandboxId());
      } catch (SandboxNotFoundException e) {
        // deleted meanwhile
      }
    }
  }

  // ---- start command ----

  @Test
  void theTemplatesStartCommandRunsAfterACreateColdAndWarm() throws Exception {
    await("a warm sandbox of starter-warm", () -> warmWaiting() == 1);
    for (String template : List.of("starter", "starter-warm")) {
      Sandbox sandbox = sandboxes.create(request(template).build());
      try (ConnectClient envd = envd(sandbox)) {
        // it runs in the background: the create does not wait for it to finish
        await(
            "the start command of " + template,
            () -> run(envd, "cat /tmp/started 2>/dev/null").equals("user\n/home/user\n"));
        // still running, listed by envd under its tag
        assertThat(run(envd, "ps -o user,args | grep '[s]leep 600'")).contains("sleep 600");
      }
    }
    // a template without one starts nothing
    Sandbox plain = sandboxes.create(request("plain").build());
    try (ConnectClient envd = envd(plain)) {
      assertThat(run(envd, "test -e /tmp/started && echo yes || echo no")).isEqualTo("no\n");
    }
  }

  // ---- DNS ----

  @Test
  void resolvConfNamesTheNodesNameServerAndALookupReachesItWhereEgressAllows() throws Exception {
    Sandbox open =
        sandboxes.create(
            request("plain")
                .setEgress(
                    EgressPolicy.newBuilder()
                        .setInternetAccess(false)
                        .addAllowedCidrs(OUTSIDE_NET.toString()))
                .build());
    Sandbox closed = sandboxes.create(request("plain").build()); // no egress at all
    try (ConnectClient envd = envd(open);
        ConnectClient closedEnvd = envd(closed)) {
      assertThat(run(envd, "grep '^nameserver' /etc/resolv.conf"))
          .isEqualTo("nameserver " + OUTSIDE_IP + "\n");
      assertThat(run(envd, "nslookup " + NAME + " || true")).contains(ANSWER);
      assertThat(QUERIES.get()).isPositive();

      int before = QUERIES.get();
      assertThat(run(closedEnvd, "grep '^nameserver' /etc/resolv.conf"))
          .isEqualTo("nameserver " + OUTSIDE_IP + "\n");
      assertThat(run(closedEnvd, "timeout 5 nslookup " + NAME + " || true")).doesNotContain(ANSWER);
      assertThat(QUERIES.get()).as("queries that reached the name server").isEqualTo(before);
    }
  }

  // ---- isolation ----

  @Test
  void aSandboxReachesNeitherItsNeighbourNorTheHostsServicesNorTheMetadataAddress()
      throws Exception {
    // allowed to the outside: the fixed isolation must win over the policy
    EgressPolicy egress =
        EgressPolicy.newBuilder()
            .setInternetAccess(true)
            .addAllowedCidrs(NETWORK.pool().toString())
            .build();
    Sandbox a = sandboxes.create(request("plain").setEgress(egress).build());
    Sandbox b = sandboxes.create(request("plain").build());
    AtomicInteger accepted = new AtomicInteger();
    String gateway = gateway();
    try (ServerSocket hostService = new ServerSocket();
        ConnectClient envdA = envd(a)) {
      hostService.bind(new InetSocketAddress(InetAddress.getByName(gateway), 0));
      Thread.ofVirtual()
          .start(
              () -> {
                while (!hostService.isClosed()) {
                  try (Socket socket = hostService.accept()) {
                    accepted.incrementAndGet();
                    socket.getOutputStream().write("hello\n".getBytes(StandardCharsets.UTF_8));
                  } catch (IOException e) {
                    // closed
                  }
                }
              });
      // the controls: the host reaches b's envd, and a reaches its own envd
      try (Socket probe = new Socket()) {
        probe.connect(new InetSocketAddress(b.getAddress(), 49983), 2000);
      }
      assertThat(reaches(envdA, "127.0.0.1", 49983)).as("a → its own envd").isTrue();
      assertThat(reaches(envdA, a.getAddress(), 49983)).as("a → its own address").isTrue();

      assertThat(reaches(envdA, b.getAddress(), 49983)).as("a → b's envd").isFalse();
      assertThat(reaches(envdA, gateway, hostService.getLocalPort()))
          .as("a → a service of the host on the bridge address")
          .isFalse();
      assertThat(reaches(envdA, gateway, orchestrator.nodeProxyPort()))
          .as("a → the node proxy's port on the bridge address")
          .isFalse();
      assertThat(reaches(envdA, "169.254.169.254", 80)).as("a → metadata").isFalse();
      assertThat(accepted.get()).isZero();
      // what was allowed still works: the outside namespace (the name server's host)
      assertThat(run(envdA, "nslookup " + NAME + " || true")).contains(ANSWER);
    }
  }

  /** From inside the sandbox: whether a TCP connection to {@code host:port} opens within 2 s. */
  static boolean reaches(ConnectClient envd, String host, int port) {
    return run(
            envd,
            "timeout 5 nc -w 2 "
                + host
                + " "
                + port
                + " </dev/null >/dev/null 2>&1 && echo open || echo closed")
        .equals("open\n");
  }

  static String gateway() {
    String pool = NETWORK.pool().toString();
    String base = pool.substring(0, pool.indexOf('/'));
    return base.substring(0, base.lastIndexOf('.') + 1) + "1";
  }

  // ---- helpers ----

  static CreateSandboxRequest.Builder request(String template) {
    return CreateSandboxRequest.newBuilder()
        .setSandboxId("o" + ProcessHandle.current().pid() + "x" + IDS.incrementAndGet())
        .setTemplateId(template)
        .setCpuCount(1)
        .setMemoryMb(256);
  }

  static ConnectClient envd(Sandbox sandbox) {
    return ConnectClient.builder(
            URI.create("http://" + sandbox.getAddress() + ":" + sandbox.getEnvdPort()))
        .timeout(WITHIN)
        .build();
  }

  /** Runs {@code script} with {@code /bin/sh -c} through envd; its stdout, whatever the exit. */
  static String run(ConnectClient envd, String script) {
    StartRequest request =
        StartRequest.newBuilder()
            .setProcess(ProcessConfig.newBuilder().setCmd("/bin/sh").addArgs("-c").addArgs(script))
            .setStdin(false)
            .build();
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    try (ServerStream<StartResponse> events =
        envd.serverStream("process.Process/Start", request, StartResponse.getDefaultInstance())) {
      for (StartResponse response : events) {
        ProcessEvent event = response.getEvent();
        if (event.hasData() && event.getData().hasStdout()) {
          event.getData().getStdout().writeTo(stdout);
        }
      }
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    return stdout.toString(StandardCharsets.UTF_8);
  }

  static int warmWaiting() {
    return orchestrator.lifecycle().warmPoolCounts().getOrDefault("starter-warm", 0);
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + WITHIN.toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime() - deadline).as("%s within %s", what, WITHIN).isNegative();
      Thread.sleep(50);
    }
  }

  // ---- the outside namespace and its name server ----

  private static void startOutside() throws Exception {
    ip(
        List.of("ip", "-batch", "-"),
        "netns add "
            + OUTSIDE
            + "\nlink add "
            + OUTSIDE_HOST_END
            + " type veth peer name eth0 netns "
            + OUTSIDE
            + "\naddr add 10.240.1.1/30 dev "
            + OUTSIDE_HOST_END
            + "\nlink set "
            + OUTSIDE_HOST_END
            + " up\n",
        true);
    ip(
        List.of("ip", "-n", OUTSIDE, "-batch", "-"),
        "link set lo up\naddr add "
            + OUTSIDE_IP
            + "/30 dev eth0\nlink set eth0 up\nroute add default via 10.240.1.1\n",
        true);
    CountDownLatch bound = new CountDownLatch(1);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    // a platform thread that enters the namespace: the socket it opens lives there
    Thread.ofPlatform()
        .daemon()
        .name("sbxo-name-server")
        .start(
            () -> {
              try {
                enterNetns(Path.of("/run/netns", OUTSIDE));
                DatagramSocket socket = new DatagramSocket(new InetSocketAddress(OUTSIDE_IP, 53));
                nameServerSocket = socket;
                bound.countDown();
                serveNames(socket);
              } catch (Throwable e) {
                failure.set(e);
                bound.countDown();
              }
            });
    assertThat(bound.await(10, TimeUnit.SECONDS)).isTrue();
    if (failure.get() != null) {
      throw new AssertionError("name server in " + OUTSIDE, failure.get());
    }
  }

  /**
   * A minimal DNS responder: an A query for {@link #NAME} gets {@link #ANSWER}; any other query is
   * answered NXDOMAIN (AAAA and the like: no error, no answer). Counts the queries.
   */
  static void serveNames(DatagramSocket socket) {
    byte[] buffer = new byte[512];
    while (!socket.isClosed()) {
      try {
        DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
        socket.receive(packet);
        QUERIES.incrementAndGet();
        byte[] q = java.util.Arrays.copyOf(packet.getData(), packet.getLength());
        int end = 12;
        StringBuilder name = new StringBuilder();
        while (end < q.length && q[end] != 0) {
          int len = q[end] & 0xff;
          if (!name.isEmpty()) {
            name.append('.');
          }
          name.append(new String(q, end + 1, len, StandardCharsets.US_ASCII));
          end += len + 1;
        }
        end += 5; // the root label, QTYPE, QCLASS
        if (end > q.length) {
          continue;
        }
        int type = ((q[end - 4] & 0xff) << 8) | (q[end - 3] & 0xff);
        boolean known = name.toString().equalsIgnoreCase(NAME);
        boolean answer = known && type == 1;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(q, 0, 2); // id
        out.write(0x81); // response, recursion desired
        out.write(known ? 0x80 : 0x83); // recursion available; NXDOMAIN for unknown names
        out.write(new byte[] {0, 1, 0, (byte) (answer ? 1 : 0), 0, 0, 0, 0});
        out.write(q, 12, end - 12); // the question
        if (answer) {
          out.write(new byte[] {(byte) 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4});
          out.write(InetAddress.getByName(ANSWER).getAddress());
        }
        byte[] reply = out.toByteArray();
        socket.send(new DatagramPacket(reply, reply.length, packet.getSocketAddress()));
      } catch (IOException e) {
        // closed, or a malformed query: go on until closed
      }
    }
  }

  private static void removeOutside() throws IOException, InterruptedException {
    ip(
        List.of("ip", "-force", "-batch", "-"),
        "link del " + OUTSIDE_HOST_END + "\nnetns del " + OUTSIDE + "\n",
        false);
  }

  /** Runs {@code command} with {@code input} on its stdin; fails if {@code check} and it fails. */
  private static void ip(List<String> command, String input, boolean check)
      throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    try (var stdin = process.getOutputStream()) {
      stdin.write(input.getBytes(StandardCharsets.UTF_8));
    }
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int exit = process.waitFor();
    if (check && exit != 0) {
      throw new IOException(command + " failed (" + exit + "): " + output);
    }
  }

  /** Moves the calling platform thread into the network namespace at {@code path} (setns(2)). */
  private static void enterNetns(Path path) throws Throwable {
    Linker linker = Linker.nativeLinker();
    var libc = linker.defaultLookup();
    MethodHandle open =
        linker.downcallHandle(
            libc.find("open").orElseThrow(), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    MethodHandle setns =
        linker.downcallHandle(
            libc.find("setns").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    MethodHandle close =
        linker.downcallHandle(
            libc.find("close").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment name = arena.allocateFrom(path.toString());
      int fd = (int) open.invokeExact(name, 0x80000 /* O_RDONLY | O_CLOEXEC */);
      if (fd < 0) {
        throw new IOException("cannot open " + path);
      }
      try {
        if ((int) setns.invokeExact(fd, 0x40000000 /* CLONE_NEWNET */) != 0) {
          throw new IOException("setns into " + path + " failed");
        }
      } finally {
        int ignored = (int) close.invokeExact(fd);
      }
    }
  }
}
