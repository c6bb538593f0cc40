package dev.sbx.proxy.routing;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * A node that runs in the client proxy's own process (a single-node server, {@code sbx up}): the
 * client proxy takes the last hop to its sandboxes itself, as that node's proxy would, instead of
 * forwarding over loopback to the node proxy first. Every request then crosses one proxy instead of
 * two; on a VM where waking a thread costs a millisecond that hop was ≈ 2 ms of every request and
 * more of a streamed one.
 *
 * <p>The client proxy then also dials as the node proxy does ({@link #dialAttempts}, {@link
 * #dialBackoffStep}): a server in the sandbox may still be starting.
 *
 * <p>Called on a Vert.x event loop for every request to one of its sandboxes: an implementation
 * answers from memory and never blocks.
 */
public interface LocalNode {

  /** Whether the catalog's node proxy address {@code host:port} is this node's. */
  boolean isNodeProxy(String host, int port);

  /**
   * The IP literal of the sandbox's network slot on this node, or {@code null} when the node runs
   * no sandbox with this id.
   */
  @Nullable String sandboxAddress(String sandboxId);

  /** Connection attempts to a sandbox's port before the 502 "port is not open". */
  int dialAttempts();

  /** The wait after attempt n is n times this. */
  Duration dialBackoffStep();
}
