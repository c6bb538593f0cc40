package dev.sbx.cli.server;

import dev.sbx.proxy.catalog.Catalog;
import dev.sbx.proxy.catalog.redis.RedisCatalog;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/** The Redis catalog an API and the client proxies of a cluster share. */
public final class CatalogOptions {

  @Option(
      names = "--redis-url",
      defaultValue = "${env:SBX_REDIS_URL}",
      description = "Redis of the sandbox catalog, e.g. redis://10.0.0.5:6379 (env SBX_REDIS_URL).")
  @Nullable String redisUrl;

  /** Connects to Redis (the caller closes the catalog). */
  public Catalog open() {
    String url = redisUrl;
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException("--redis-url (or SBX_REDIS_URL) is required");
    }
    return RedisCatalog.builder(url).build();
  }
}
