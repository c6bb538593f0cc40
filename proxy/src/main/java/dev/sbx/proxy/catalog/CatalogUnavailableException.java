package dev.sbx.proxy.catalog;

/**
 * The catalog's store cannot answer now (Redis down, a timeout, an entry it cannot read). {@link
 * Catalog#find} fails its stage with it; {@link Catalog#put} and {@link Catalog#remove} throw it.
 * The proxy turns it into an error response; the catalog keeps trying to reconnect on its own.
 */
public final class CatalogUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public CatalogUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }

  public CatalogUnavailableException(String message) {
    super(message);
  }
}
