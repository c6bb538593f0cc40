package dev.sbx.orchestrator.proxy;

import org.jspecify.annotations.Nullable;

/**
 * Where the sandboxes on this host listen: the proxy's only view of the sandbox registry.
 *
 * <p>Called on a Vert.x event loop for every proxied request, so an implementation must answer from
 * memory and never block.
 */
@FunctionalInterface
public interface SandboxAddresses {

  /**
   * Returns the IP literal of the sandbox's network slot (for example {@code 10.231.0.7}), or
   * {@code null} when no sandbox with this id runs on this host.
   */
  @Nullable String address(String sandboxId);
}
