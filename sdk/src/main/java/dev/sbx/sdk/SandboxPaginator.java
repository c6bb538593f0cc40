package dev.sbx.sdk;

import static java.util.Objects.requireNonNull;

import dev.sbx.sdk.internal.ApiClient;
import java.util.List;
import java.util.NoSuchElementException;
import org.jspecify.annotations.Nullable;

/**
 * Pages through {@code GET /v2/sandboxes}: call {@link #nextItems()} while {@link #hasNext()}. The
 * next page's token comes from the {@code X-Next-Token} response header. E2B: {@code
 * SandboxPaginator}.
 */
public final class SandboxPaginator {
  private final ApiClient api;
  private final SandboxQuery query;
  private @Nullable String nextToken;
  private boolean hasNext = true;

  SandboxPaginator(ApiClient api, SandboxQuery query) {
    this.api = requireNonNull(api, "api");
    this.query = requireNonNull(query, "query");
    this.nextToken = query.nextToken();
  }

  /** Whether another page may exist (true until a page came without a next token). */
  public boolean hasNext() {
    return hasNext;
  }

  /** The token of the next page, or {@code null} before the first page / after the last. */
  public @Nullable String nextToken() {
    return nextToken;
  }

  /**
   * Fetches the next page.
   *
   * @throws NoSuchElementException when there is no next page
   */
  public List<SandboxInfo> nextItems() {
    if (!hasNext) {
      throw new NoSuchElementException("no more sandboxes to list");
    }
    ApiClient.Page page = api.list(query, nextToken);
    nextToken = page.nextToken();
    hasNext = nextToken != null;
    return page.sandboxes();
  }
}
