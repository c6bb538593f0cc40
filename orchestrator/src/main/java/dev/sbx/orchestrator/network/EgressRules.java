package dev.sbx.orchestrator.network;

import static java.util.Objects.requireNonNull;

/**
 * The nftables scripts ({@code nft -f -}, each applied as one atomic transaction) for the pool's
 * isolation and every slot's egress policy.
 *
 * <p>Two tables named after the pool's prefix:
 *
 * <ul>
 *   <li>{@code bridge <prefix>} sees frames on the bridge's ports. Its {@code prerouting} chain
 *       lets a frame from a slot port (set {@code ports}) pass only if it is ARP or IPv4 with the
 *       slot's own source address (set {@code slots}: port . address), so a sandbox cannot spoof a
 *       neighbour's address and borrow its policy; link-local destinations (169.254.0.0/16, the
 *       cloud metadata address) are dropped here, before any routing (counter {@code link_local}).
 *       Its {@code forward} chain drops every frame the bridge would forward from one port to
 *       another (counter {@code between_sandboxes}); the ports are also flagged {@code isolated}.
 *   <li>{@code inet <prefix>}: {@code input} drops every connection a sandbox opens to the host
 *       (any host address, any port; counter {@code to_host}) and lets through only the replies of
 *       connections the host opened (conntrack {@code established,related}), so the orchestrator
 *       reaches envd and every other port in the sandbox. {@code forward} sends what comes from the
 *       bridge through {@code from_sandbox}: drop back into the bridge, IPv6, and destinations in
 *       set {@code blocked} (the pool's range, link-local), then jump by source address (map {@code
 *       egress}) to the slot's chain {@code egress_<n>}: allowed CIDRs accept, denied CIDRs drop,
 *       then accept if internet access is on, else drop. Nothing from outside opens a connection
 *       into the bridge. {@code postrouting} masquerades the addresses in set {@code nat_sources}:
 *       the slots whose policy forwards anything.
 * </ul>
 *
 * <p>Every packet a sandbox sends is judged by its slot chain (there is no blanket "established:
 * accept" for sandbox-sent traffic), so an updated policy also cuts connections already open.
 * Forwarding itself needs the host's {@code ip_forward} (or the bridge's {@code forwarding}) on;
 * the pool does not switch it on.
 */
final class EgressRules {

  private final NetworkConfig config;

  EgressRules(NetworkConfig config) {
    this.config = requireNonNull(config, "config");
  }

  /** Creates both tables from scratch (the caller removed any earlier ones). */
  String createTables() {
    String t = config.table();
    String br = quoted(config.bridge());
    return """
        table inet %1$s {
          counter to_host {}
          counter blocked {}
          counter denied {}
          set blocked_dst { type ipv4_addr; flags interval; elements = { 169.254.0.0/16, %3$s } }
          map egress { type ipv4_addr : verdict; }
          set nat_sources { type ipv4_addr; }
          chain input {
            type filter hook input priority filter; policy accept;
            iifname %2$s ct state established,related accept
            iifname %2$s counter name to_host drop
          }
          chain forward {
            type filter hook forward priority filter; policy accept;
            iifname %2$s jump from_sandbox
            oifname %2$s ct state established,related accept
            oifname %2$s counter name blocked drop
          }
          chain from_sandbox {
            oifname %2$s counter name blocked drop
            meta nfproto != ipv4 counter name blocked drop
            ip daddr @blocked_dst counter name blocked drop
            ip saddr vmap @egress
            counter name blocked drop
          }
          chain postrouting {
            type nat hook postrouting priority srcnat; policy accept;
            oifname != %2$s ip saddr @nat_sources masquerade
          }
        }
        table bridge %1$s {
          counter spoofed {}
          counter link_local {}
          counter between_sandboxes {}
          set ports { type ifname; }
          set slots { type ifname . ipv4_addr; }
          chain prerouting {
            type filter hook prerouting priority filter; policy accept;
            iifname != @ports accept
            ether type arp iifname . arp saddr ip @slots accept
            ether type ip iifname . ip saddr @slots jump from_slot
            counter name spoofed drop
          }
          chain from_slot {
            ip daddr 169.254.0.0/16 counter name link_local drop
            accept
          }
          chain forward {
            type filter hook forward priority filter; policy accept;
            iifname @ports counter name between_sandboxes drop
          }
        }
        """
        .formatted(t, br, config.pool());
  }

  /** Registers a slot with no egress: its chain (drop everything) and its address. */
  String addSlot(NetworkSlot slot) {
    String t = config.table();
    String chain = chain(slot);
    return "add chain inet "
        + t
        + " "
        + chain
        + "\n"
        + "flush chain inet "
        + t
        + " "
        + chain
        + "\n"
        + "add rule inet "
        + t
        + " "
        + chain
        + " counter name denied drop\n"
        + "add element inet "
        + t
        + " egress { "
        + slot.ip()
        + " : jump "
        + chain
        + " }\n"
        + "add element bridge "
        + t
        + " slots { "
        + quoted(slot.hostVeth())
        + " . "
        + slot.ip()
        + " }\n"
        + "add element bridge "
        + t
        + " ports { "
        + quoted(slot.hostVeth())
        + " }\n";
  }

  /**
   * Replaces a slot's policy in one transaction: allowed CIDRs accept, then denied CIDRs drop, then
   * the internet default; and puts the address in or out of set {@code nat_sources}.
   */
  String applyPolicy(NetworkSlot slot, EgressPolicy policy) {
    String t = config.table();
    String chain = chain(slot);
    StringBuilder script = new StringBuilder();
    script.append("flush chain inet ").append(t).append(' ').append(chain).append('\n');
    for (Ipv4Cidr allowed : policy.allowed()) {
      rule(script, chain, "ip daddr " + allowed + " accept");
    }
    for (Ipv4Cidr denied : policy.denied()) {
      rule(script, chain, "ip daddr " + denied + " counter name denied drop");
    }
    rule(script, chain, policy.internetAccess() ? "accept" : "counter name denied drop");
    // add-then-delete leaves the element out whether or not it was there; plain delete of a
    // missing element would fail the whole transaction
    String element = " element inet " + t + " nat_sources { " + slot.ip() + " }\n";
    script.append("add").append(element);
    if (!policy.forwardsAnything()) {
      script.append("delete").append(element);
    }
    return script.toString();
  }

  /** Removes everything of the slot's from both tables. */
  String removeSlot(NetworkSlot slot) {
    String t = config.table();
    String chain = chain(slot);
    return "delete element inet "
        + t
        + " egress { "
        + slot.ip()
        + " }\n"
        + "add element inet "
        + t
        + " nat_sources { "
        + slot.ip()
        + " }\n"
        + "delete element inet "
        + t
        + " nat_sources { "
        + slot.ip()
        + " }\n"
        + "flush chain inet "
        + t
        + " "
        + chain
        + "\n"
        + "delete chain inet "
        + t
        + " "
        + chain
        + "\n"
        + "delete element bridge "
        + t
        + " slots { "
        + quoted(slot.hostVeth())
        + " . "
        + slot.ip()
        + " }\n"
        + "delete element bridge "
        + t
        + " ports { "
        + quoted(slot.hostVeth())
        + " }\n";
  }

  static String chain(NetworkSlot slot) {
    return "egress_" + slot.index();
  }

  private void rule(StringBuilder script, String chain, String rule) {
    script
        .append("add rule inet ")
        .append(config.table())
        .append(' ')
        .append(chain)
        .append(' ')
        .append(rule)
        .append('\n');
  }

  private static String quoted(String name) {
    return '"' + name + '"';
  }
}
