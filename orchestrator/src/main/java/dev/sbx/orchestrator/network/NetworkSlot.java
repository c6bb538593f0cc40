package dev.sbx.orchestrator.network;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;

/**
 * One sandbox's place on the network: network namespace {@code netns} (bind-mounted at {@link
 * #netnsPath()} so that an OCI runtime joins it by path), inside it {@code eth0} with {@code
 * address} and {@code mac}, default route via {@code gateway} (the bridge), and the host end {@code
 * hostVeth} of the veth pair attached to the bridge.
 *
 * @param index the slot's offset in the pool range (2 for the first slot: .0 is the network, .1 the
 *     bridge); the address, MAC and names derive from it
 */
public record NetworkSlot(
    int index,
    String netns,
    String hostVeth,
    int address,
    int gateway,
    int prefixLength,
    String mac) {

  /** The interface name inside the namespace. */
  public static final String SANDBOX_INTERFACE = "eth0";

  public NetworkSlot {
    requireNonNull(netns, "netns");
    requireNonNull(hostVeth, "hostVeth");
    requireNonNull(mac, "mac");
  }

  /**
   * Where the namespace is bind-mounted; runc joins it with {@code {"type":"network","path":…}}.
   */
  public Path netnsPath() {
    return Path.of("/run/netns", netns);
  }

  /** The sandbox's address as a dotted quad, e.g. {@code 10.231.0.2}. */
  public String ip() {
    return Ipv4Cidr.formatAddress(address);
  }

  /** The bridge's address, the sandbox's default gateway, as a dotted quad. */
  public String gatewayIp() {
    return Ipv4Cidr.formatAddress(gateway);
  }
}
