/**
 * The node proxy on :5007: routes {@code <port>-<sandboxId>.<domain>} hosts, or the {@code
 * E2b-Sandbox-Id} and {@code E2b-Sandbox-Port} headers on localhost, IP-literal and {@code
 * sandbox.<domain>} hosts, to the address of a sandbox on this host and streams requests, responses
 * and WebSocket upgrades through without buffering; it refuses envd's control routes ({@code /init}
 * and the like) and answers unknown sandboxes and closed ports with the 502 bodies of the E2B wire
 * protocol (§3.1 and §3.2 step 3). The generic parts live in the proxy module ({@code
 * dev.sbx.proxy.routing}, {@code dev.sbx.proxy.forward}).
 */
@NullMarked
package dev.sbx.orchestrator.proxy;

import org.jspecify.annotations.NullMarked;
