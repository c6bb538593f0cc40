package dev.sbx.proxy.catalog;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/** The catalog of a single-node server: API and proxy share this map in one JVM. */
public final class InMemoryCatalog implements Catalog {

  private final ConcurrentMap<String, CatalogEntry> entries = new ConcurrentHashMap<>();

  @Override
  public CompletionStage<Optional<CatalogEntry>> find(String sandboxId) {
    return CompletableFuture.completedFuture(Optional.ofNullable(entries.get(sandboxId)));
  }

  @Override
  public CompletionStage<List<CatalogEntry>> entries() {
    return CompletableFuture.completedFuture(List.copyOf(entries.values()));
  }

  @Override
  public void put(CatalogEntry entry) {
    entries.put(entry.sandboxId(), entry);
  }

  @Override
  public void remove(String sandboxId) {
    entries.remove(sandboxId);
  }

  @Override
  public void close() {
    entries.clear();
  }
}
