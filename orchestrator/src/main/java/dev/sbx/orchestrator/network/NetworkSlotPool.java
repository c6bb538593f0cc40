package dev.sbx.orchestrator.network;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The host's sandbox network: a bridge, the isolation rules, and network slots handed out to
 * sandboxes. A slot is built with three forked processes ({@code ip -batch} on the host, then
 * {@code ip -n <netns> -batch} inside, and beside them {@code nft -f}) and removed with two run
 * side by side; {@link NetworkConfig#readySlots()} slots are kept built ahead and refilled in the
 * background, so {@link #acquire} usually costs one {@code nft} call (none for {@link
 * EgressPolicy#NONE}).
 *
 * <p>A released slot is removed, not recycled: a sandbox's root could have changed anything inside
 * its namespace. Its index (address, MAC, names) is reused by the next slot built; the address
 * keeps its MAC and the host's neighbour entry is rewritten, so the first connection to the new
 * owner does not wait for a stale entry to expire.
 *
 * <p>Thread-safe.
 */
public final class NetworkSlotPool implements AutoCloseable {

  private static final Pattern WHITESPACE = Pattern.compile("\\s+");
  private static final Pattern LINK_FIELDS = Pattern.compile(":\\s+");

  private final NetworkConfig config;
  private final NetworkScripts scripts;
  private final EgressRules rules;
  private final ExecutorService refiller =
      Executors.newSingleThreadExecutor(Thread.ofVirtual().name("network-slot-refill").factory());

  private final Object lock = new Object();
  private final BitSet taken = new BitSet();
  private final ArrayDeque<NetworkSlot> ready = new ArrayDeque<>();
  private final Map<Integer, NetworkSlot> acquired = new HashMap<>();
  private int preparing;
  private boolean closed;
  private @Nullable NetworkException refillFailure;

  private NetworkSlotPool(NetworkConfig config) {
    this.config = config;
    this.scripts = new NetworkScripts(config);
    this.rules = new EgressRules(config);
  }

  /**
   * Starts the pool: removes whatever an earlier run with the same prefix left (namespaces, veths,
   * the bridge, the nftables tables), checks that no other route on the host overlaps the pool's
   * range, creates the bridge and the tables and begins building ready slots.
   *
   * @throws NetworkException if the range is in use on the host or a command fails
   */
  public static NetworkSlotPool start(NetworkConfig config) {
    requireNonNull(config, "config");
    checkRangeIsFree(config);
    removeAll(config);
    NetworkSlotPool pool = new NetworkSlotPool(config);
    try {
      HostCommand.run(List.of("ip", "-batch", "-"), pool.scripts.createBridge()).check();
      disableIpv6(config.bridge());
      HostCommand.run(List.of("nft", "-f", "-"), pool.rules.createTables()).check();
    } catch (NetworkException e) {
      removeAll(config);
      throw e;
    }
    pool.refill();
    return pool;
  }

  /**
   * Starts the pool after a restart, keeping the slots of sandboxes that still run (crash
   * recovery): if the bridge and both tables are there, each slot index in {@code keep} whose
   * namespace and veth exist is adopted as acquired, with its rules (egress policy) untouched;
   * every other slot of the layout (namespace, veth, rules) is removed. If the bridge or a table is
   * missing, nothing can be adopted: everything is removed and the pool starts afresh. {@link
   * #acquired(int)} tells which slots were adopted.
   *
   * @throws NetworkException if the range is in use on the host or a command fails
   */
  public static NetworkSlotPool recover(NetworkConfig config, Set<Integer> keep) {
    requireNonNull(config, "config");
    requireNonNull(keep, "keep");
    List<String> found = leftovers(config);
    boolean intact =
        found.contains("link " + config.bridge())
            && found.contains("table inet " + config.table())
            && found.contains("table bridge " + config.table());
    if (!intact || keep.isEmpty()) {
      return start(config);
    }
    checkRangeIsFree(config);
    NetworkSlotPool pool = new NetworkSlotPool(config);
    Set<Integer> indexes = new TreeSet<>();
    for (String link : links()) {
      if (config.vethPattern().matcher(link).matches()) {
        indexes.add(Integer.parseInt(link.substring(config.vethName(0).length() - 1)));
      }
    }
    for (String netns : namespaces()) {
      if (config.netnsPattern().matcher(netns).matches()) {
        indexes.add(Integer.parseInt(netns.substring(config.netnsName(0).length() - 1)));
      }
    }
    var chain = Pattern.compile("\\bchain egress_(\\d+) ");
    var chains =
        chain.matcher(HostCommand.run("nft", "list", "table", "inet", config.table()).stdout());
    while (chains.find()) {
      indexes.add(Integer.parseInt(chains.group(1)));
    }
    for (int index : indexes) {
      if (index < config.firstSlot() || index > config.lastSlot()) {
        continue;
      }
      NetworkSlot slot = config.slot(index);
      boolean whole =
          Files.exists(slot.netnsPath())
              && Files.exists(Path.of("/sys/class/net", slot.hostVeth()));
      if (keep.contains(index) && whole) {
        pool.taken.set(index);
        pool.acquired.put(index, slot);
      } else {
        pool.destroy(slot);
      }
    }
    pool.refill();
    return pool;
  }

  /** The indexes of every slot this pool holds: acquired, ready and being built. */
  public Set<Integer> slotIndexes() {
    synchronized (lock) {
      return Set.copyOf(taken.stream().boxed().toList());
    }
  }

  /** The acquired slot with this index, or null. */
  public @Nullable NetworkSlot acquired(int index) {
    synchronized (lock) {
      return acquired.get(index);
    }
  }

  /**
   * Stops refilling and removes the ready slots, but keeps the acquired ones, the bridge and the
   * tables: the sandboxes using them go on running and a later {@link #recover} adopts them.
   */
  public void detach() {
    List<NetworkSlot> waiting;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
    }
    refiller.shutdown();
    try {
      if (!refiller.awaitTermination(30, TimeUnit.SECONDS)) {
        refiller.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (lock) {
      waiting = List.copyOf(ready);
      ready.clear();
    }
    for (NetworkSlot slot : waiting) {
      destroy(slot);
    }
  }

  public NetworkConfig config() {
    return config;
  }

  /**
   * Hands out a slot with {@code policy} applied: a ready one if there is one, else one built now.
   *
   * @throws NetworkException if every address of the pool is taken or building the slot failed
   */
  public NetworkSlot acquire(EgressPolicy policy) {
    requireNonNull(policy, "policy");
    NetworkSlot slot;
    synchronized (lock) {
      ensureOpen();
      slot = ready.pollFirst();
    }
    if (slot == null) {
      slot = build(reserveIndex());
    }
    synchronized (lock) {
      acquired.put(slot.index(), slot);
    }
    refill();
    if (!policy.equals(EgressPolicy.NONE)) {
      try {
        updateEgress(slot, policy);
      } catch (NetworkException e) {
        release(slot);
        throw e;
      }
    }
    return slot;
  }

  /** Replaces an acquired slot's egress policy; connections already open are judged anew. */
  public void updateEgress(NetworkSlot slot, EgressPolicy policy) {
    requireNonNull(slot, "slot");
    requireNonNull(policy, "policy");
    synchronized (lock) {
      ensureOpen();
      if (!slot.equals(acquired.get(slot.index()))) {
        throw new IllegalArgumentException("not an acquired slot of this pool: " + slot);
      }
    }
    HostCommand.run(List.of("nft", "-f", "-"), rules.applyPolicy(slot, policy)).check();
  }

  /**
   * Removes an acquired slot: its rules, veth pair, namespace and neighbour entry; its index is
   * free again once everything is gone.
   *
   * @throws NetworkException if something could not be removed (the index then stays taken)
   */
  public void release(NetworkSlot slot) {
    requireNonNull(slot, "slot");
    synchronized (lock) {
      if (!slot.equals(acquired.remove(slot.index()))) {
        throw new IllegalArgumentException("not an acquired slot of this pool: " + slot);
      }
    }
    destroy(slot);
    synchronized (lock) {
      taken.clear(slot.index());
    }
    refill();
  }

  /** How many slots are built and waiting. */
  public int readyCount() {
    synchronized (lock) {
      return ready.size();
    }
  }

  /** Why the last background refill failed, if it did (it is retried on the next acquire). */
  public @Nullable NetworkException refillFailure() {
    synchronized (lock) {
      return refillFailure;
    }
  }

  /** Stops refilling and removes every slot, the bridge and the tables. */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
    }
    refiller.shutdown();
    try {
      if (!refiller.awaitTermination(30, TimeUnit.SECONDS)) {
        refiller.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    removeAll(config);
  }

  /**
   * Removes every namespace, veth, the bridge and both nftables tables that carry this layout's
   * names, whoever made them (crash recovery; also what {@link #close()} does).
   *
   * @throws NetworkException if something of ours is still there afterwards
   */
  public static void removeAll(NetworkConfig config) {
    requireNonNull(config, "config");
    StringBuilder ip = new StringBuilder();
    for (String link : links()) {
      if (config.vethPattern().matcher(link).matches() || link.equals(config.bridge())) {
        ip.append("link del ").append(link).append('\n');
      }
    }
    for (String netns : namespaces()) {
      if (config.netnsPattern().matcher(netns).matches()) {
        ip.append("netns del ").append(netns).append('\n');
      }
    }
    if (!ip.isEmpty()) {
      HostCommand.run(List.of("ip", "-force", "-batch", "-"), ip.toString());
    }
    StringBuilder nft = new StringBuilder();
    for (String table : tables()) {
      if (table.equals("inet " + config.table()) || table.equals("bridge " + config.table())) {
        nft.append("delete table ").append(table).append('\n');
      }
    }
    if (!nft.isEmpty()) {
      HostCommand.run(List.of("nft", "-f", "-"), nft.toString()).check();
    }
    List<String> left = leftovers(config);
    if (!left.isEmpty()) {
      throw new NetworkException("could not remove " + String.join(", ", left));
    }
  }

  /** Everything on the host that carries this layout's names (empty when all is clean). */
  public static List<String> leftovers(NetworkConfig config) {
    requireNonNull(config, "config");
    List<String> found = new ArrayList<>();
    for (String link : links()) {
      if (config.vethPattern().matcher(link).matches() || link.equals(config.bridge())) {
        found.add("link " + link);
      }
    }
    for (String netns : namespaces()) {
      if (config.netnsPattern().matcher(netns).matches()) {
        found.add("netns " + netns);
      }
    }
    for (String table : tables()) {
      if (table.equals("inet " + config.table()) || table.equals("bridge " + config.table())) {
        found.add("table " + table);
      }
    }
    return found;
  }

  /**
   * Fails unless the pool's range is unused on the host: no route (in any table) overlaps it,
   * except those on our own bridge.
   */
  static void checkRangeIsFree(NetworkConfig config) {
    String routes =
        HostCommand.run("ip", "-4", "-o", "route", "show", "table", "all").check().stdout();
    for (String line : routes.lines().toList()) {
      Ipv4Cidr destination = routeDestination(line);
      String device = wordAfter(line, "dev");
      if (destination != null
          && destination.overlaps(config.pool())
          && !config.bridge().equals(device)) {
        throw new NetworkException(
            "sandbox address pool "
                + config.pool()
                + " overlaps a route on this host ("
                + line.strip()
                + "); configure another range");
      }
    }
  }

  /** The destination of one {@code ip -o route} line, or null for {@code default}. */
  static @Nullable Ipv4Cidr routeDestination(String line) {
    String[] words = WHITESPACE.split(line.strip(), -1);
    if (words.length == 0 || words[0].isEmpty()) {
      return null;
    }
    String destination = words[0];
    if (List.of(
                "unicast",
                "local",
                "broadcast",
                "multicast",
                "anycast",
                "blackhole",
                "unreachable",
                "prohibit",
                "throw",
                "nat")
            .contains(destination)
        && words.length > 1) {
      destination = words[1];
    }
    if (destination.equals("default")) {
      return null;
    }
    int slash = destination.indexOf('/');
    if (slash < 0) {
      return Ipv4Cidr.covering(Ipv4Cidr.parseAddress(destination), 32);
    }
    return Ipv4Cidr.covering(
        Ipv4Cidr.parseAddress(destination.substring(0, slash)),
        Integer.parseInt(destination.substring(slash + 1)));
  }

  private static @Nullable String wordAfter(String line, String keyword) {
    String[] words = WHITESPACE.split(line.strip(), -1);
    for (int i = 0; i + 1 < words.length; i++) {
      if (words[i].equals(keyword)) {
        return words[i + 1];
      }
    }
    return null;
  }

  private void refill() {
    synchronized (lock) {
      if (closed || ready.size() + preparing >= config.readySlots()) {
        return;
      }
      preparing++;
    }
    refiller.execute(this::refillOne);
  }

  private void refillOne() {
    NetworkSlot slot = null;
    try {
      slot = build(reserveIndex());
      boolean keep;
      synchronized (lock) {
        keep = !closed;
        if (keep) {
          ready.addLast(slot);
          refillFailure = null;
        }
      }
      if (!keep) {
        destroy(slot);
        return;
      }
    } catch (NetworkException e) {
      synchronized (lock) {
        refillFailure = e;
        preparing--;
      }
      return;
    }
    synchronized (lock) {
      preparing--;
    }
    refill();
  }

  private int reserveIndex() {
    synchronized (lock) {
      ensureOpen();
      int index = taken.nextClearBit(config.firstSlot());
      if (index > config.lastSlot()) {
        throw new NetworkException("no free address left in the sandbox pool " + config.pool());
      }
      taken.set(index);
      return index;
    }
  }

  /**
   * Builds slot {@code index}; on failure removes what was made and frees the index. The nft call
   * runs beside the two {@code ip} calls (its set elements name the veth, which need not exist
   * yet), so the latency is two process runs, not three.
   */
  private NetworkSlot build(int index) {
    NetworkSlot slot = config.slot(index);
    try {
      var nft = alongside(List.of("nft", "-f", "-"), rules.addSlot(slot));
      HostCommand.Result hostSide =
          HostCommand.run(List.of("ip", "-batch", "-"), scripts.createSlotHostSide(slot));
      HostCommand.Result inside =
          hostSide.ok()
              ? HostCommand.run(
                  List.of("ip", "-n", slot.netns(), "-batch", "-"), scripts.createSlotInside(slot))
              : hostSide;
      HostCommand.Result rulesAdded = nft.join();
      hostSide.check();
      inside.check();
      rulesAdded.check();
      return slot;
    } catch (NetworkException e) {
      try {
        destroy(slot);
        synchronized (lock) {
          taken.clear(index);
        }
      } catch (NetworkException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
  }

  /**
   * Removes a slot's rules, links, namespace and neighbour entry (the nft and ip calls run side by
   * side); checks that they are gone.
   */
  private void destroy(NetworkSlot slot) {
    var nft = alongside(List.of("nft", "-f", "-"), rules.removeSlot(slot));
    HostCommand.run(List.of("ip", "-force", "-batch", "-"), scripts.removeSlot(slot));
    HostCommand.Result rulesRemoved = nft.join();
    if (Files.exists(slot.netnsPath())
        || Files.exists(Path.of("/sys/class/net", slot.hostVeth()))) {
      throw new NetworkException("could not remove network slot " + slot.netns());
    }
    if (!rulesRemoved.ok() && hasSlotRules(slot)) {
      throw new NetworkException(
          "could not remove the rules of " + slot.netns() + ": " + rulesRemoved.stderr().strip());
    }
  }

  /** Runs a command on a virtual thread of its own. */
  private static CompletableFuture<HostCommand.Result> alongside(
      List<String> command, String stdin) {
    CompletableFuture<HostCommand.Result> result = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              try {
                result.complete(HostCommand.run(command, stdin));
              } catch (RuntimeException e) {
                result.completeExceptionally(e);
              }
            });
    return result;
  }

  private boolean hasSlotRules(NetworkSlot slot) {
    return HostCommand.run("nft", "list", "chain", "inet", config.table(), EgressRules.chain(slot))
        .ok();
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("network slot pool is closed");
    }
  }

  private static void disableIpv6(String device) {
    Path setting = Path.of("/proc/sys/net/ipv6/conf", device, "disable_ipv6");
    if (Files.exists(setting)) {
      try {
        Files.writeString(setting, "1");
      } catch (IOException e) {
        throw new NetworkException("cannot disable IPv6 on " + device + ": " + e.getMessage(), e);
      }
    }
  }

  private static List<String> links() {
    List<String> names = new ArrayList<>();
    for (String line :
        HostCommand.run("ip", "-o", "link", "show").check().stdout().lines().toList()) {
      // "5: sbxv2@if2: <BROADCAST,..." → sbxv2
      String[] parts = LINK_FIELDS.split(line, 3);
      if (parts.length >= 2) {
        String name = parts[1];
        int at = name.indexOf('@');
        names.add(at >= 0 ? name.substring(0, at) : name);
      }
    }
    return names;
  }

  private static List<String> namespaces() {
    Path dir = Path.of("/run/netns");
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (var entries = Files.list(dir)) {
      return entries.map(p -> p.getFileName().toString()).toList();
    } catch (IOException e) {
      throw new NetworkException("cannot list " + dir + ": " + e.getMessage(), e);
    }
  }

  private static List<String> tables() {
    List<String> tables = new ArrayList<>();
    for (String line : HostCommand.run("nft", "list", "tables").check().stdout().lines().toList()) {
      // "table inet sbx"
      if (line.startsWith("table ")) {
        tables.add(line.substring("table ".length()).strip());
      }
    }
    return tables;
  }
}
