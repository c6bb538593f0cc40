package dev.sbx.sdk;

import static java.util.Objects.requireNonNull;

import dev.sbx.sdk.internal.PersistenceApi;
import java.util.List;
import java.util.NoSuchElementException;
import org.jspecify.annotations.Nullable;

/**
 * Pages through {@code GET /snapshots}, newest first: call {@link #nextItems()} while {@link
 * #hasNext()}. E2B: {@code SnapshotPaginator}.
 */
public final class SnapshotPaginator {
  private final PersistenceApi api;
  private final @Nullable String sandboxId;
  private final @Nullable Integer limit;
  private @Nullable String nextToken;
  private boolean hasNext = true;

  SnapshotPaginator(PersistenceApi api, @Nullable String sandboxId, @Nullable Integer limit) {
    this.api = requireNonNull(api, "api");
    this.sandboxId = sandboxId;
    this.limit = limit;
  }

  /** Whether another page may exist (true until a page came without a next token). */
  public boolean hasNext() {
    return hasNext;
  }

  /**
   * Fetches the next page.
   *
   * @throws NoSuchElementException when there is no next page
   */
  public List<SnapshotInfo> nextItems() {
    if (!hasNext) {
      throw new NoSuchElementException("no more snapshots to list");
    }
    PersistenceApi.SnapshotPage page = api.listSnapshots(sandboxId, limit, nextToken);
    nextToken = page.nextToken();
    hasNext = nextToken != null;
    return page.snapshots().stream().map(s -> new SnapshotInfo(s.snapshotId(), s.names())).toList();
  }
}
