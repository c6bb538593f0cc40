/**
 * Sandbox networking on the host: a pool of network slots (each its own network namespace, a veth
 * pair on a host bridge, a fixed address and MAC from a configurable pool, prepared ahead and
 * removed on release) and each slot's egress policy in nftables (internet on or off, allowed and
 * denied CIDRs), with the isolation that no policy can lift: a sandbox never reaches the host, its
 * neighbours or link-local addresses such as 169.254.169.254.
 */
@NullMarked
package dev.sbx.orchestrator.network;

import org.jspecify.annotations.NullMarked;
