package dev.sbx.orchestrator.network;

import static java.util.Objects.requireNonNull;

/**
 * The {@code ip -batch} scripts that build and remove the bridge and the slots. Each script is fed
 * to one {@code ip} process, so a slot costs two forks to build (host side, then inside its
 * namespace) and one to remove.
 */
final class NetworkScripts {

  private final NetworkConfig config;

  NetworkScripts(NetworkConfig config) {
    this.config = requireNonNull(config, "config");
  }

  /**
   * Creates the bridge with a fixed MAC (a bridge otherwise takes its lowest port's MAC, which
   * changes as slots come and go and would make every sandbox's cached gateway entry stale) and the
   * pool's first address. Only run when the bridge does not exist yet.
   */
  String createBridge() {
    int gateway = config.gateway();
    return "link add "
        + config.bridge()
        + " type bridge\n"
        + "link set "
        + config.bridge()
        + " address "
        + NetworkConfig.macFor(gateway)
        + "\n"
        + "addr replace "
        + Ipv4Cidr.formatAddress(gateway)
        + "/"
        + config.pool().prefixLength()
        + " dev "
        + config.bridge()
        + "\n"
        + "link set "
        + config.bridge()
        + " up\n";
  }

  /**
   * Host side of a slot: the namespace, the veth pair with the sandbox end already named {@code
   * eth0} with its fixed MAC and moved into the namespace, the host end on the bridge as an
   * isolated port (the bridge forwards nothing between two isolated ports), and a permanent
   * neighbour entry for the slot's address that replaces whatever a previous owner left.
   */
  String createSlotHostSide(NetworkSlot slot) {
    return "netns add "
        + slot.netns()
        + "\n"
        + "link add "
        + slot.hostVeth()
        + " type veth peer name "
        + NetworkSlot.SANDBOX_INTERFACE
        + " address "
        + slot.mac()
        + " netns "
        + slot.netns()
        + "\n"
        + "link set "
        + slot.hostVeth()
        + " master "
        + config.bridge()
        + "\n"
        + "link set dev "
        + slot.hostVeth()
        + " type bridge_slave isolated on\n"
        + "link set "
        + slot.hostVeth()
        + " up\n"
        + "neigh replace "
        + slot.ip()
        + " lladdr "
        + slot.mac()
        + " dev "
        + config.bridge()
        + " nud permanent\n";
  }

  /**
   * Inside the slot's namespace ({@code ip -n <netns> -batch -}): loopback up, the address, the
   * default route via the bridge and a permanent neighbour entry for the gateway's fixed MAC.
   */
  String createSlotInside(NetworkSlot slot) {
    String eth = NetworkSlot.SANDBOX_INTERFACE;
    return "link set lo up\n"
        + "addr add "
        + slot.ip()
        + "/"
        + slot.prefixLength()
        + " dev "
        + eth
        + "\n"
        + "link set "
        + eth
        + " up\n"
        + "neigh replace "
        + slot.gatewayIp()
        + " lladdr "
        + NetworkConfig.macFor(slot.gateway())
        + " dev "
        + eth
        + " nud permanent\n"
        + "route add default via "
        + slot.gatewayIp()
        + " dev "
        + eth
        + "\n";
  }

  /**
   * Removes a slot ({@code ip -force -batch -}: each line is tried even if an earlier one failed,
   * so that a half-made slot is removed too): the veth pair, the namespace, the neighbour entry.
   */
  String removeSlot(NetworkSlot slot) {
    return "link del "
        + slot.hostVeth()
        + "\n"
        + "netns del "
        + slot.netns()
        + "\n"
        + "neigh del "
        + slot.ip()
        + " dev "
        + config.bridge()
        + "\n";
  }
}
