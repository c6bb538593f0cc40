package dev.sbx.orchestrator.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Real namespaces, veths, a bridge and nftables rules, as root. Uses its own layout (prefix {@code
 * sbxt}, bridge {@code sbxt0}, 10.232.0.0/24) so that it never touches a running orchestrator's
 * slots, removes leftovers of an earlier crashed run first and everything it made at the end. Only
 * addresses of its own bridge and namespaces are ever contacted.
 */
class NetworkSlotPoolTest {

  static final NetworkConfig CONFIG =
      new NetworkConfig("sbxt", "sbxt0", Ipv4Cidr.parse("10.232.0.0/24"), 0);

  private static final int PORT = 18080;

  private NetworkSlotPool pool;
  private final NetworkProbe probe = new NetworkProbe();
  private final List<NetworkSlot> acquired = new ArrayList<>();

  /** A stand-in for "outside": a namespace of the test's own, routed through the host. */
  private static final String OUTSIDE = "sbxtx";

  private static final String OUTSIDE_HOST_END = "sbxtx0";
  private static final String OUTSIDE_IP = "10.232.1.2";

  @BeforeAll
  static void requireRoot() {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root");
    NetworkSlotPool.removeAll(CONFIG);
    removeOutside();
  }

  private static void removeOutside() {
    HostCommand.run(
        List.of("ip", "-force", "-batch", "-"),
        "link del " + OUTSIDE_HOST_END + "\nnetns del " + OUTSIDE + "\n");
  }

  @BeforeEach
  void startPool() {
    pool = NetworkSlotPool.start(CONFIG);
  }

  @AfterEach
  void stopPool() throws Exception {
    try {
      probe.close();
    } finally {
      @SuppressWarnings("NullAway") // null when start() failed in startPool
      boolean started = pool != null;
      if (started) {
        pool.close();
      }
    }
    assertThat(NetworkSlotPool.leftovers(CONFIG)).isEmpty();
  }

  @AfterAll
  static void removeLeftovers() {
    removeOutside();
    NetworkSlotPool.removeAll(CONFIG);
  }

  private NetworkSlot acquire(EgressPolicy policy) {
    NetworkSlot slot = pool.acquire(policy);
    acquired.add(slot);
    return slot;
  }

  @Test
  void theHostReachesAServerInsideASlot() throws Exception {
    NetworkSlot a = acquire(EgressPolicy.NONE);

    assertThat(a.netnsPath()).exists();
    assertThat(Path.of("/sys/class/net", a.hostVeth(), "master").toRealPath().getFileName())
        .hasToString(CONFIG.bridge());
    assertThat(HostCommand.run("ip", "-n", a.netns(), "-o", "-4", "addr", "show", "eth0").stdout())
        .contains(a.ip() + "/24");
    assertThat(HostCommand.run("ip", "-n", a.netns(), "link", "show", "eth0").stdout())
        .contains(a.mac());
    assertThat(HostCommand.run("ip", "-n", a.netns(), "route").stdout())
        .contains("default via " + a.gatewayIp());
    assertThat(HostCommand.run("ip", "-n", a.netns(), "link", "show", "lo").stdout())
        .contains("UP");

    probe.serveInNamespace(a.netns(), PORT);
    NetworkProbe.greetFromHost(a.ip(), PORT, Duration.ofSeconds(10));
    // the sandbox reaches its own loopback
    probe.serveInNamespace(a.netns(), PORT + 1);
    NetworkProbe.greetFromHost(a.ip(), PORT + 1, Duration.ofSeconds(10));
    assertThat(NetworkProbe.greetFromNamespace(a.netns(), "127.0.0.1", PORT + 1)).isTrue();
  }

  @Test
  void aSlotReachesNeitherItsNeighbourNorTheHostNorTheMetadataAddress() throws Exception {
    NetworkSlot a = acquire(EgressPolicy.NONE);
    NetworkSlot b = acquire(EgressPolicy.NONE);
    probe.serveInNamespace(b.netns(), PORT);
    NetworkProbe.greetFromHost(b.ip(), PORT, Duration.ofSeconds(10)); // b's server is up

    assertThat(NetworkProbe.greetFromNamespace(a.netns(), b.ip(), PORT)).isFalse();

    AtomicInteger accepted = new AtomicInteger();
    int hostPort = probe.serveOnHost(a.gatewayIp(), accepted);
    NetworkProbe.greetFromHost(a.gatewayIp(), hostPort, Duration.ofSeconds(5)); // it is up
    long toHostBefore = counter("inet", "to_host");
    assertThat(NetworkProbe.greetFromNamespace(a.netns(), a.gatewayIp(), hostPort)).isFalse();
    assertThat(accepted.get()).isEqualTo(1); // only the host's own check
    assertThat(counter("inet", "to_host")).isGreaterThan(toHostBefore);

    long linkLocalBefore = counter("bridge", "link_local");
    assertThat(NetworkProbe.greetFromNamespace(a.netns(), "169.254.169.254", 80)).isFalse();
    assertThat(counter("bridge", "link_local")).isGreaterThan(linkLocalBefore);
  }

  @Test
  void egressFollowsThePolicyAndChangesLive() throws Exception {
    NetworkSlotPool.checkRangeIsFree(
        new NetworkConfig("sbxtx", OUTSIDE_HOST_END, Ipv4Cidr.parse("10.232.1.0/24"), 0));
    Path ipForward = Path.of("/proc/sys/net/ipv4/ip_forward");
    String ipForwardBefore = Files.readString(ipForward);
    try {
      HostCommand.run(
              List.of("ip", "-batch", "-"),
              "netns add "
                  + OUTSIDE
                  + "\n"
                  + "link add "
                  + OUTSIDE_HOST_END
                  + " type veth peer name eth0 netns "
                  + OUTSIDE
                  + "\n"
                  + "addr add 10.232.1.1/24 dev "
                  + OUTSIDE_HOST_END
                  + "\n"
                  + "link set "
                  + OUTSIDE_HOST_END
                  + " up\n")
          .check();
      HostCommand.run(
              List.of("ip", "-n", OUTSIDE, "-batch", "-"),
              "link set lo up\naddr add "
                  + OUTSIDE_IP
                  + "/24 dev eth0\nlink set eth0 up\n"
                  + "route add default via 10.232.1.1\n")
          .check();
      // forwarding only for packets that enter the test's own two interfaces (a per-device
      // switch); the host-wide ip_forward is left as it is
      Files.writeString(Path.of("/proc/sys/net/ipv4/conf", CONFIG.bridge(), "forwarding"), "1");
      Files.writeString(Path.of("/proc/sys/net/ipv4/conf", OUTSIDE_HOST_END, "forwarding"), "1");

      NetworkSlot a = acquire(EgressPolicy.NONE);
      NetworkSlot b = acquire(EgressPolicy.NONE);
      probe.serveInNamespace(OUTSIDE, PORT);
      NetworkProbe.greetFromHost(OUTSIDE_IP, PORT, Duration.ofSeconds(10));
      probe.serveInNamespace(b.netns(), PORT);
      NetworkProbe.greetFromHost(b.ip(), PORT, Duration.ofSeconds(10));
      Ipv4Cidr outsideNet = Ipv4Cidr.parse("10.232.1.0/24");
      Ipv4Cidr outsideHost = Ipv4Cidr.parse(OUTSIDE_IP);

      assertThat(NetworkProbe.greetFromNamespace(a.netns(), OUTSIDE_IP, PORT)).isFalse();

      pool.updateEgress(a, new EgressPolicy(false, List.of(outsideNet), List.of()));
      assertThat(NetworkProbe.greetFromNamespace(a.netns(), OUTSIDE_IP, PORT)).isTrue();
      assertThat(NetworkProbe.greetFromNamespace(b.netns(), OUTSIDE_IP, PORT)).isFalse();

      // allowed wins over denied
      pool.updateEgress(a, new EgressPolicy(false, List.of(outsideNet), List.of(outsideHost)));
      assertThat(NetworkProbe.greetFromNamespace(a.netns(), OUTSIDE_IP, PORT)).isTrue();
      pool.updateEgress(a, new EgressPolicy(false, List.of(outsideHost), List.of(outsideNet)));
      assertThat(NetworkProbe.greetFromNamespace(a.netns(), OUTSIDE_IP, PORT)).isTrue();

      // denied alone, and an allow-list that names other addresses, block
      pool.updateEgress(a, new EgressPolicy(false, List.of(), List.of(outsideNet)));
      assertThat(NetworkProbe.greetFromNamespace(a.netns(), OUTSIDE_IP, PORT)).isFalse();
      pool.updateEgress(
          a, new EgressPolicy(false, List.of(Ipv4Cidr.parse("10.232.1.128/25")), List.of()));
      assertThat(NetworkProbe.greetFromNamespace(a.netns(), OUTSIDE_IP, PORT)).isFalse();

      // the fixed isolation wins over any allow-list: the neighbour, the host, link-local
      long linkLocal = counter("bridge", "link_local");
      pool.updateEgress(
          a,
          new EgressPolicy(
              false,
              List.of(
                  Ipv4Cidr.parse(b.ip()),
                  CONFIG.pool(),
                  Ipv4Cidr.parse(a.gatewayIp()),
                  Ipv4Cidr.parse("169.254.0.0/16")),
              List.of()));
      assertThat(NetworkProbe.greetFromNamespace(a.netns(), b.ip(), PORT)).isFalse();
      AtomicInteger accepted = new AtomicInteger();
      int hostPort = probe.serveOnHost(a.gatewayIp(), accepted);
      assertThat(NetworkProbe.greetFromNamespace(a.netns(), a.gatewayIp(), hostPort)).isFalse();
      assertThat(accepted.get()).isZero();
      assertThat(NetworkProbe.greetFromNamespace(a.netns(), "169.254.169.254", 80)).isFalse();
      assertThat(counter("bridge", "link_local")).isGreaterThan(linkLocal);

      pool.updateEgress(a, EgressPolicy.NONE);
      assertThat(NetworkProbe.greetFromNamespace(a.netns(), OUTSIDE_IP, PORT)).isFalse();
      assertThat(nftSet("inet", "nat_sources")).doesNotContain(a.ip());
    } finally {
      removeOutside();
      assertThat(Files.readString(ipForward)).isEqualTo(ipForwardBefore);
    }
  }

  @Test
  void releaseRemovesTheNamespaceTheVethAndTheRules() throws Exception {
    NetworkSlot a =
        acquire(new EgressPolicy(false, List.of(Ipv4Cidr.parse("10.232.1.0/24")), List.of()));
    assertThat(HostCommand.run("nft", "list", "chain", "inet", "sbxt", "egress_" + a.index()).ok())
        .isTrue();
    assertThat(nftSet("inet", "nat_sources")).contains(a.ip());

    pool.release(a);

    assertThat(HostCommand.run("ip", "netns", "list").stdout()).doesNotContain(a.netns());
    assertThat(HostCommand.run("ip", "-o", "link", "show").stdout()).doesNotContain(a.hostVeth());
    assertThat(Files.exists(a.netnsPath())).isFalse();
    assertThat(HostCommand.run("nft", "list", "chain", "inet", "sbxt", "egress_" + a.index()).ok())
        .isFalse();
    assertThat(nftSet("inet", "nat_sources")).doesNotContain(a.ip());
    assertThat(nftSet("inet", "egress")).doesNotContain(a.ip());
    assertThat(nftSet("bridge", "slots")).doesNotContain(a.hostVeth());
    assertThat(HostCommand.run("ip", "neigh", "show", "dev", CONFIG.bridge()).stdout())
        .doesNotContain(a.ip() + " ");
    assertThatThrownBy(() -> pool.release(a)).isInstanceOf(IllegalArgumentException.class);

    pool.close();
    assertThat(HostCommand.run("nft", "list", "tables").stdout()).doesNotContain("sbxt");
    assertThat(Path.of("/sys/class/net", CONFIG.bridge())).doesNotExist();
  }

  @Test
  void theFirstConnectionToAReusedAddressIsFast() throws Exception {
    NetworkSlot first = pool.acquire(EgressPolicy.NONE);
    probe.serveInNamespace(first.netns(), PORT);
    NetworkProbe.greetFromHost(first.ip(), PORT, Duration.ofSeconds(10));
    probe.close();
    pool.release(first);

    NetworkSlot second = acquire(EgressPolicy.NONE);
    assertThat(second.ip()).isEqualTo(first.ip());
    probe.serveInNamespace(second.netns(), PORT);
    waitUntilListening(second);

    Duration firstConnection =
        NetworkProbe.greetFromHost(second.ip(), PORT, Duration.ofSeconds(10));
    assertThat(firstConnection).isLessThan(Duration.ofSeconds(1));
  }

  @Test
  void readySlotsAreBuiltAheadAndRefilled() throws Exception {
    pool.close();
    NetworkConfig warm = new NetworkConfig("sbxt", "sbxt0", CONFIG.pool(), 2);
    pool = NetworkSlotPool.start(warm);
    awaitReady(2);
    long start = System.nanoTime();
    NetworkSlot slot = acquire(EgressPolicy.NONE);
    Duration fromPool = Duration.ofNanos(System.nanoTime() - start);
    assertThat(slot.netnsPath()).exists();
    awaitReady(2);
    assertThat(fromPool).isLessThan(Duration.ofMillis(50));
    System.out.printf("acquire from the ready pool: %.2f ms%n", fromPool.toNanos() / 1e6);
  }

  @Test
  void aPoolOverlappingARouteOnTheHostDoesNotStart() {
    // a dummy interface of the test's own carries 10.232.2.1/24
    String dummy = "sbxtd0";
    try {
      HostCommand.run(
              List.of("ip", "-batch", "-"),
              "link add "
                  + dummy
                  + " type bridge\naddr add 10.232.2.1/24 dev "
                  + dummy
                  + "\n"
                  + "link set "
                  + dummy
                  + " up\n")
          .check();
      NetworkConfig clash = new NetworkConfig("sbxu", "sbxu0", Ipv4Cidr.parse("10.232.2.0/23"), 0);
      assertThatThrownBy(() -> NetworkSlotPool.start(clash))
          .isInstanceOf(NetworkException.class)
          .hasMessageContaining("overlaps a route")
          .hasMessageContaining("10.232.2.0/24");
      assertThat(NetworkSlotPool.leftovers(clash)).isEmpty();
    } finally {
      HostCommand.run("ip", "link", "del", dummy);
    }
  }

  @Test
  void setupAndTeardownTimes() throws Exception {
    int rounds = 15;
    long[] setup = new long[rounds];
    long[] teardown = new long[rounds];
    for (int i = 0; i < rounds; i++) {
      long start = System.nanoTime();
      NetworkSlot slot = pool.acquire(EgressPolicy.NONE);
      setup[i] = System.nanoTime() - start;
      start = System.nanoTime();
      pool.release(slot);
      teardown[i] = System.nanoTime() - start;
    }
    long[] fork = new long[rounds];
    for (int i = 0; i < rounds; i++) {
      long start = System.nanoTime();
      HostCommand.run("/bin/true").check();
      fork[i] = System.nanoTime() - start;
    }
    double setupMs = median(setup) / 1e6;
    double teardownMs = median(teardown) / 1e6;
    System.out.printf(
        "network slot over %d rounds: setup median %.1f ms, teardown median %.1f ms"
            + " (one fork+exec of /bin/true: median %.1f ms)%n",
        rounds, setupMs, teardownMs, median(fork) / 1e6);
    assertThat(setupMs).isLessThan(500);
    assertThat(teardownMs).isLessThan(500);
  }

  private void waitUntilListening(NetworkSlot slot) throws Exception {
    long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!HostCommand.run("ip", "netns", "exec", slot.netns(), "busybox", "netstat", "-ltn")
        .stdout()
        .contains(":" + PORT + " ")) {
      assertThat(System.nanoTime()).as("server listening in " + slot.netns()).isLessThan(end);
      Thread.sleep(10);
    }
  }

  private void awaitReady(int count) throws InterruptedException {
    long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (pool.readyCount() < count) {
      assertThat(pool.refillFailure()).isNull();
      assertThat(System.nanoTime()).as("%d ready slots", count).isLessThan(end);
      Thread.sleep(10);
    }
  }

  static long counter(String family, String name) {
    String out = HostCommand.run("nft", "list", "counter", family, "sbxt", name).check().stdout();
    Matcher packets = Pattern.compile("packets (\\d+)").matcher(out);
    assertThat(packets.find()).as(out).isTrue();
    return Long.parseLong(packets.group(1));
  }

  static String nftSet(String family, String name) {
    String kind = name.equals("egress") ? "map" : "set";
    return HostCommand.run("nft", "list", kind, family, "sbxt", name).check().stdout();
  }

  private static double median(long[] values) {
    long[] sorted = values.clone();
    java.util.Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
