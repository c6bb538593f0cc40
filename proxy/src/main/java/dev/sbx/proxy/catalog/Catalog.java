package dev.sbx.proxy.catalog;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Sandbox → node, shared by the API server (writer) and the client proxy (reader). Implementations:
 * {@link InMemoryCatalog} for one node; a Redis one for several.
 */
public interface Catalog extends AutoCloseable {

  /**
   * The route of a sandbox, if the catalog knows it. Called on the proxy's event loop for every
   * request: it must not block (answer from memory, or complete later). When the store behind the
   * catalog cannot answer, the stage fails with {@link CatalogUnavailableException}.
   */
  CompletionStage<Optional<CatalogEntry>> find(String sandboxId);

  /**
   * Every entry. Only for the rare request that names no sandbox (a signed file URL sent to the
   * shared sandbox address): it may be slow, but must not block the caller's thread.
   */
  CompletionStage<List<CatalogEntry>> entries();

  /**
   * Adds or replaces the route of {@code entry.sandboxId()}. May block briefly (the API's side).
   *
   * @throws CatalogUnavailableException when the store behind the catalog cannot be written
   */
  void put(CatalogEntry entry);

  /**
   * Forgets a sandbox; unknown ids are fine. May block briefly (the API's side).
   *
   * @throws CatalogUnavailableException when the store behind the catalog cannot be written
   */
  void remove(String sandboxId);

  @Override
  void close();
}
