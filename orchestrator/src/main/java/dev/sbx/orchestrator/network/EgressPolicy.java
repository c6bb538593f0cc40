package dev.sbx.orchestrator.network;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * What a sandbox may reach outside the host, in E2B's terms: {@code allowed} wins over {@code
 * denied}, which wins over {@code internetAccess} (so "internet off, allow X" is an allow-list and
 * "internet on, deny Y" a block-list). No policy lifts the fixed isolation: the host, the other
 * sandboxes, the pool's own range and link-local addresses (169.254.0.0/16) stay unreachable.
 *
 * @param internetAccess whether destinations matched by neither list are reachable
 * @param allowed destinations that are reachable whatever {@code denied} says
 * @param denied destinations that are unreachable unless also in {@code allowed}
 */
public record EgressPolicy(boolean internetAccess, List<Ipv4Cidr> allowed, List<Ipv4Cidr> denied) {

  /** No egress at all: what a slot has while it waits in the pool. */
  public static final EgressPolicy NONE = new EgressPolicy(false, List.of(), List.of());

  public EgressPolicy {
    allowed = List.copyOf(requireNonNull(allowed, "allowed"));
    denied = List.copyOf(requireNonNull(denied, "denied"));
  }

  /** Everything that is not fixed-blocked, as E2B's {@code allow_internet_access=true}. */
  public static EgressPolicy internet() {
    return new EgressPolicy(true, List.of(), List.of());
  }

  /**
   * Whether any packet may leave the host under this policy; such a slot's traffic is masqueraded
   * (an allow-list to public addresses needs it as much as full internet access does).
   */
  public boolean forwardsAnything() {
    return internetAccess || !allowed.isEmpty();
  }
}
