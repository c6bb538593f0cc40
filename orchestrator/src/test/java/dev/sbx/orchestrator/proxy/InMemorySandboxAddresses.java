package dev.sbx.orchestrator.proxy;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/** A hand-written {@link SandboxAddresses} over a map the test fills. */
final class InMemorySandboxAddresses implements SandboxAddresses {

  private final Map<String, String> addresses = new ConcurrentHashMap<>();

  void put(String sandboxId, String address) {
    addresses.put(sandboxId, address);
  }

  void remove(String sandboxId) {
    addresses.remove(sandboxId);
  }

  @Override
  public @Nullable String address(String sandboxId) {
    return addresses.get(sandboxId);
  }
}
