package dev.sbx.orchestrator.network;

import static java.util.Objects.requireNonNull;

import java.util.regex.Pattern;

/**
 * How the host's sandbox network is laid out. Every name the pool creates starts with {@code
 * prefix} (namespaces {@code <prefix>-<n>}, host veths {@code <prefix>v<n>}, nftables tables {@code
 * inet <prefix>} and {@code bridge <prefix>}), so that {@link
 * NetworkSlotPool#removeAll(NetworkConfig)} finds what a crashed run left behind; two pools with
 * different prefixes, bridges and ranges never touch each other's objects.
 *
 * @param prefix 1 to 6 characters, {@code [a-z][a-z0-9]*}
 * @param bridge the host bridge's name (at most 15 characters)
 * @param pool the address range; the bridge takes its first host address (.1), slots the rest
 * @param readySlots how many slots to keep prepared ahead (0: prepare on acquire)
 */
public record NetworkConfig(String prefix, String bridge, Ipv4Cidr pool, int readySlots) {

  private static final Pattern PREFIX = Pattern.compile("[a-z][a-z0-9]{0,5}");
  private static final Pattern INTERFACE = Pattern.compile("[a-zA-Z0-9_.-]{1,15}");

  public NetworkConfig {
    requireNonNull(prefix, "prefix");
    requireNonNull(bridge, "bridge");
    requireNonNull(pool, "pool");
    if (!PREFIX.matcher(prefix).matches()) {
      throw new IllegalArgumentException("prefix must match " + PREFIX + ": " + prefix);
    }
    if (!INTERFACE.matcher(bridge).matches()) {
      throw new IllegalArgumentException("not an interface name: " + bridge);
    }
    if (pool.prefixLength() < 8 || pool.prefixLength() > 29) {
      throw new IllegalArgumentException("pool must be a /8 to /29: " + pool);
    }
    if (readySlots < 0) {
      throw new IllegalArgumentException("readySlots < 0: " + readySlots);
    }
  }

  /** The production layout: prefix {@code sbx}, bridge {@code sbx0}, 10.231.0.0/16, 4 ready. */
  public static NetworkConfig defaults() {
    return new NetworkConfig("sbx", "sbx0", Ipv4Cidr.parse("10.231.0.0/16"), 4);
  }

  /** The bridge's address: the first host address of the pool. */
  public int gateway() {
    return pool.addressAt(1);
  }

  /** The first slot index (the offset of its address in the pool). */
  public int firstSlot() {
    return 2;
  }

  /** The last slot index: the address before the broadcast address. */
  public int lastSlot() {
    return (int) Math.min(pool.size() - 2, 99_999);
  }

  public String netnsName(int index) {
    return prefix + "-" + index;
  }

  public String vethName(int index) {
    return prefix + "v" + index;
  }

  /** The nftables table name (in families {@code inet} and {@code bridge}). */
  public String table() {
    return prefix;
  }

  /** A slot's namespace name pattern, for finding leftovers. */
  Pattern netnsPattern() {
    return Pattern.compile(Pattern.quote(prefix + "-") + "[0-9]+");
  }

  /** A slot's host veth name pattern, for finding leftovers. */
  Pattern vethPattern() {
    return Pattern.compile(Pattern.quote(prefix + "v") + "[0-9]+");
  }

  /**
   * A locally administered unicast MAC derived from an address: {@code 02:5b:} and the four octets.
   * The same address always gets the same MAC, so a neighbour entry cached for a previous owner of
   * the address stays right.
   */
  static String macFor(int address) {
    return String.format(
        "02:5b:%02x:%02x:%02x:%02x",
        address >>> 24, (address >>> 16) & 0xff, (address >>> 8) & 0xff, address & 0xff);
  }

  /** The slot with this index. */
  NetworkSlot slot(int index) {
    if (index < firstSlot() || index > lastSlot()) {
      throw new IllegalArgumentException("slot index outside the pool: " + index);
    }
    int address = pool.addressAt(index);
    return new NetworkSlot(
        index,
        netnsName(index),
        vethName(index),
        address,
        gateway(),
        pool.prefixLength(),
        macFor(address));
  }
}
