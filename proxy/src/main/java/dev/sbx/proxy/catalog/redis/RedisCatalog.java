package dev.sbx.proxy.catalog.redis;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.sbx.proxy.catalog.Catalog;
import dev.sbx.proxy.catalog.CatalogEntry;
import dev.sbx.proxy.catalog.CatalogEntry.RouteState;
import dev.sbx.proxy.catalog.CatalogUnavailableException;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The catalog of a multi-node installation: one Redis shared by the API servers (writers) and every
 * client proxy (readers), with a short-lived local cache in each reader.
 *
 * <p><b>Keys and values.</b> A sandbox is the hash {@code <prefix><sandboxId>} (prefix {@value
 * #DEFAULT_KEY_PREFIX} by default) with the fields {@code n} (node id), {@code h} (node proxy
 * host), {@code p} (node proxy port), {@code s} (route state name) and {@code t} (traffic access
 * token; absent for a public sandbox), {@code e} (envd access token; absent when envd is open) and
 * {@code m} (the sandbox's {@code maskRequestHost}; absent when it has none). A put replaces the
 * whole hash in one Lua script, so a reader never sees half an entry or the token of the previous
 * one.
 *
 * <p><b>Cache and invalidation.</b> {@link #find} answers from a Caffeine cache (default TTL {@link
 * Builder#DEFAULT_CACHE_TTL}, absent sandboxes cached too) and otherwise reads Redis without
 * blocking: the stage is Lettuce's, completed on Lettuce's I/O thread. Every {@link #put} and
 * {@link #remove} publishes the sandbox id on the channel {@code <prefix>invalidations} <em>inside
 * the same script</em> as the write, and every catalog subscribes to it and drops that id from its
 * cache: a kill is seen at once by every proxy, not only after the TTL. Explicit pub/sub rather
 * than keyspace notifications because it needs no server configuration ({@code
 * notify-keyspace-events} is off by default and often may not be changed on managed Redis), carries
 * exactly the events the catalog makes and nothing else, and the message leaves only after the
 * write is done. The TTL remains as the bound for what pub/sub cannot promise: while the
 * subscription is down (a disconnect), the cache is emptied and bypassed, and it is emptied once
 * more when Lettuce has subscribed again, so no invalidation lost in between can leave a stale
 * route behind.
 *
 * <p><b>Redis down.</b> Commands are rejected at once while the connection is down (no queueing),
 * so {@link #find} fails its stage with {@link CatalogUnavailableException} instead of hanging;
 * {@link #put} and {@link #remove} throw it. Lettuce reconnects in the background (backoff 20 ms
 * doubling to 1 s) and the catalog works again as soon as Redis is back.
 */
public final class RedisCatalog implements Catalog {
  public static final String DEFAULT_KEY_PREFIX = "sbx:catalog:";

  // KEYS[1] = the entry; ARGV = node, host, port, state, has-token (1/0), token, channel, id,
  // envd token ("": none), mask request host ("": none)
  private static final String PUT_SCRIPT =
      """
      redis.call('DEL', KEYS[1])
      redis.call('HSET', KEYS[1], 'n', ARGV[1], 'h', ARGV[2], 'p', ARGV[3], 's', ARGV[4])
      if ARGV[5] == '1' then redis.call('HSET', KEYS[1], 't', ARGV[6]) end
      if ARGV[9] ~= '' then redis.call('HSET', KEYS[1], 'e', ARGV[9]) end
      if ARGV[10] ~= '' then redis.call('HSET', KEYS[1], 'm', ARGV[10]) end
      redis.call('PUBLISH', ARGV[7], ARGV[8])
      return 1
      """;
  // KEYS[1] = the entry; ARGV = channel, id
  private static final String REMOVE_SCRIPT =
      """
      local removed = redis.call('DEL', KEYS[1])
      redis.call('PUBLISH', ARGV[1], ARGV[2])
      return removed
      """;

  private final String keyPrefix;
  private final String channel;
  private final String redisAddress;
  private final Duration commandTimeout;
  private final ClientResources resources;
  private final RedisClient client;
  private final StatefulRedisConnection<String, String> connection;
  private final RedisAsyncCommands<String, String> commands;
  private final StatefulRedisPubSubConnection<String, String> subscription;
  private final AsyncCache<String, Optional<CatalogEntry>> cache;
  private final AtomicBoolean closed = new AtomicBoolean();

  /**
   * Whether invalidations arrive now. False until the first subscription is confirmed and from a
   * disconnect of the subscription until it is confirmed again; while false, nothing is cached.
   */
  private volatile boolean listening;

  private RedisCatalog(Builder builder) {
    this.keyPrefix = builder.keyPrefix;
    this.channel = builder.keyPrefix + "invalidations";
    this.commandTimeout = builder.commandTimeout;
    RedisURI uri = builder.uri;
    this.redisAddress = uri.getHost() + ":" + uri.getPort();
    this.cache =
        Caffeine.newBuilder()
            .expireAfterWrite(builder.cacheTtl)
            .maximumSize(builder.cacheMaximumSize)
            .buildAsync();
    this.resources =
        ClientResources.builder()
            .ioThreadPoolSize(builder.ioThreads)
            .computationThreadPoolSize(1)
            .reconnectDelay(
                Delay.exponential(
                    Duration.ofMillis(20), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
            .build();
    this.client = RedisClient.create(resources, uri);
    client.setOptions(
        ClientOptions.builder()
            .autoReconnect(true)
            .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
            .timeoutOptions(TimeoutOptions.enabled(builder.commandTimeout))
            .build());
    StatefulRedisConnection<String, String> data = null;
    StatefulRedisPubSubConnection<String, String> pubSub = null;
    try {
      data = client.connect();
      pubSub = client.connectPubSub();
    } catch (RuntimeException e) {
      if (data != null) {
        data.close();
      }
      shutdownClient();
      throw new CatalogUnavailableException(
          "Redis catalog at " + redisAddress + " is unreachable: " + e.getMessage(), e);
    }
    this.connection = data;
    this.commands = data.async();
    this.subscription = pubSub;
    StatefulRedisPubSubConnection<String, String> subscribed = pubSub;
    client.addListener(
        new RedisConnectionStateListener() {
          @Override
          public void onRedisDisconnected(RedisChannelHandler<?, ?> handler) {
            if (handler.equals(subscribed)) {
              listening = false;
            }
            cache.synchronous().invalidateAll();
          }

          @Override
          public void onRedisConnected(RedisChannelHandler<?, ?> handler, SocketAddress address) {
            cache.synchronous().invalidateAll();
          }
        });
    pubSub.addListener(
        new RedisPubSubAdapter<>() {
          @Override
          public void message(String from, String sandboxId) {
            if (from.equals(channel)) {
              cache.synchronous().invalidate(sandboxId);
            }
          }

          @Override
          public void subscribed(String to, long count) {
            // also after a reconnect, when Lettuce subscribes again: what was published while the
            // subscription was down is unknown, so everything cached goes
            if (to.equals(channel)) {
              cache.synchronous().invalidateAll();
              listening = true;
            }
          }
        });
    try {
      pubSub.async().subscribe(channel).get(commandTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      closeQuietly();
      throw new CatalogUnavailableException(
          "Redis catalog at " + redisAddress + ": could not subscribe to " + channel, e);
    } catch (InterruptedException e) {
      closeQuietly();
      Thread.currentThread().interrupt();
      throw new CatalogUnavailableException("interrupted while subscribing to " + channel, e);
    }
    listening = true;
  }

  /** A builder for a catalog on the Redis at {@code redisUri} (e.g. {@code redis://host:6379}). */
  public static Builder builder(String redisUri) {
    requireNonNull(redisUri, "redisUri");
    RedisURI uri;
    try {
      uri = RedisURI.create(redisUri);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("not a Redis URI: " + redisUri, e);
    }
    return new Builder(uri);
  }

  @Override
  public CompletionStage<Optional<CatalogEntry>> find(String sandboxId) {
    requireNonNull(sandboxId, "sandboxId");
    if (closed.get()) {
      return CompletableFuture.failedFuture(
          new CatalogUnavailableException("Redis catalog is closed"));
    }
    if (!listening) {
      // invalidations may be lost now: read through, cache nothing
      return read(sandboxId);
    }
    // callers get a copy: one that cancels or completes its stage cannot touch the cached one
    return cache.get(sandboxId, (id, executor) -> read(id)).minimalCompletionStage();
  }

  /** SCAN over the key prefix, then the entries one by one, on a virtual thread. */
  @Override
  public CompletionStage<List<CatalogEntry>> entries() {
    if (closed.get()) {
      return CompletableFuture.failedFuture(
          new CatalogUnavailableException("Redis catalog is closed"));
    }
    return CompletableFuture.supplyAsync(
        () -> {
          List<CatalogEntry> found = new ArrayList<>();
          ScanArgs match = ScanArgs.Builder.matches(keyPrefix + "*").limit(500);
          ScanCursor cursor = ScanCursor.INITIAL;
          do {
            KeyScanCursor<String> page = await("scan the catalog", commands.scan(cursor, match));
            for (String key : page.getKeys()) {
              String sandboxId = key.substring(keyPrefix.length());
              decode(sandboxId, key, await("read " + key, commands.hgetall(key)))
                  .ifPresent(found::add);
            }
            cursor = page;
          } while (!cursor.isFinished());
          return List.copyOf(found);
        },
        task -> Thread.ofVirtual().name("sbx-catalog-scan").start(task));
  }

  @Override
  public void put(CatalogEntry entry) {
    requireNonNull(entry, "entry");
    String token = entry.trafficAccessToken();
    await(
        "put " + entry.sandboxId(),
        commands.eval(
            PUT_SCRIPT,
            ScriptOutputType.INTEGER,
            new String[] {key(entry.sandboxId())},
            entry.nodeId(),
            entry.nodeProxyHost(),
            Integer.toString(entry.nodeProxyPort()),
            entry.state().name(),
            token == null ? "0" : "1",
            token == null ? "" : token,
            channel,
            entry.sandboxId(),
            entry.envdAccessToken() == null ? "" : entry.envdAccessToken(),
            entry.maskRequestHost() == null ? "" : entry.maskRequestHost()));
    // this instance reads its own write at once, without waiting for its own message
    cache.synchronous().invalidate(entry.sandboxId());
  }

  @Override
  public void remove(String sandboxId) {
    requireNonNull(sandboxId, "sandboxId");
    await(
        "remove " + sandboxId,
        commands.eval(
            REMOVE_SCRIPT,
            ScriptOutputType.INTEGER,
            new String[] {key(sandboxId)},
            channel,
            sandboxId));
    cache.synchronous().invalidate(sandboxId);
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      closeQuietly();
    }
  }

  private CompletableFuture<Optional<CatalogEntry>> read(String sandboxId) {
    String key = key(sandboxId);
    CompletableFuture<Optional<CatalogEntry>> result = new CompletableFuture<>();
    CompletionStage<Map<String, String>> reply;
    try {
      reply = commands.hgetall(key);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(unavailable("find " + sandboxId, e));
    }
    reply.whenComplete(
        (fields, failure) -> {
          if (failure != null) {
            result.completeExceptionally(unavailable("find " + sandboxId, failure));
            return;
          }
          try {
            result.complete(decode(sandboxId, key, fields));
          } catch (CatalogUnavailableException e) {
            result.completeExceptionally(e);
          }
        });
    return result;
  }

  static Optional<CatalogEntry> decode(String sandboxId, String key, Map<String, String> fields) {
    if (fields.isEmpty()) {
      return Optional.empty();
    }
    String node = field(key, fields, "n");
    String host = field(key, fields, "h");
    String portText = field(key, fields, "p");
    String stateText = field(key, fields, "s");
    try {
      return Optional.of(
          new CatalogEntry(
              sandboxId,
              node,
              host,
              Integer.parseInt(portText),
              fields.get("t"),
              RouteState.valueOf(stateText),
              fields.get("e"),
              fields.get("m")));
    } catch (IllegalArgumentException e) {
      throw new CatalogUnavailableException(
          "catalog entry " + key + " is malformed: " + e.getMessage(), e);
    }
  }

  private static String field(String key, Map<String, String> fields, String name) {
    String value = fields.get(name);
    if (value == null) {
      throw new CatalogUnavailableException(
          "catalog entry " + key + " is malformed: field '" + name + "' is missing");
    }
    return value;
  }

  private String key(String sandboxId) {
    return keyPrefix + sandboxId;
  }

  /** The reply, waited for at most twice the command timeout; a failure is the catalog's. */
  private <T> T await(String what, CompletionStage<T> reply) {
    try {
      return reply.toCompletableFuture().get(commandTimeout.toMillis() * 2, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw unavailable(what, e.getCause() == null ? e : e.getCause());
    } catch (TimeoutException | RuntimeException e) {
      throw unavailable(what, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CatalogUnavailableException("interrupted during catalog " + what, e);
    }
  }

  private CatalogUnavailableException unavailable(String what, Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof CatalogUnavailableException already) {
      return already;
    }
    return new CatalogUnavailableException(
        "Redis catalog at " + redisAddress + " unavailable (" + what + "): " + cause, cause);
  }

  private void closeQuietly() {
    listening = false;
    try {
      subscription.close();
    } finally {
      try {
        connection.close();
      } finally {
        cache.synchronous().invalidateAll();
        shutdownClient();
      }
    }
  }

  private void shutdownClient() {
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    resources.shutdown(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
  }

  /** Settings of a {@link RedisCatalog}; {@link #build()} connects. */
  public static final class Builder {
    public static final Duration DEFAULT_CACHE_TTL = Duration.ofSeconds(2);
    public static final long DEFAULT_CACHE_MAXIMUM_SIZE = 100_000;
    public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(2);

    private final RedisURI uri;
    private String keyPrefix = DEFAULT_KEY_PREFIX;
    private Duration cacheTtl = DEFAULT_CACHE_TTL;
    private long cacheMaximumSize = DEFAULT_CACHE_MAXIMUM_SIZE;
    private Duration commandTimeout = DEFAULT_COMMAND_TIMEOUT;
    private int ioThreads = 2;

    private Builder(RedisURI uri) {
      this.uri = uri;
    }

    /**
     * The namespace of the keys, and of the invalidation channel ({@code <prefix>invalidations}).
     */
    public Builder keyPrefix(String keyPrefix) {
      requireNonNull(keyPrefix, "keyPrefix");
      if (keyPrefix.isEmpty()) {
        throw new IllegalArgumentException("keyPrefix is empty");
      }
      this.keyPrefix = keyPrefix;
      return this;
    }

    /** How long a route stays cached at most; {@link Duration#ZERO} turns the cache off. */
    public Builder cacheTtl(Duration cacheTtl) {
      requireNonNull(cacheTtl, "cacheTtl");
      if (cacheTtl.isNegative()) {
        throw new IllegalArgumentException("cacheTtl is negative: " + cacheTtl);
      }
      this.cacheTtl = cacheTtl;
      return this;
    }

    /** How many routes are cached at most. */
    public Builder cacheMaximumSize(long cacheMaximumSize) {
      if (cacheMaximumSize < 0) {
        throw new IllegalArgumentException("cacheMaximumSize is negative: " + cacheMaximumSize);
      }
      this.cacheMaximumSize = cacheMaximumSize;
      return this;
    }

    /** How long one Redis command may take before it fails. */
    public Builder commandTimeout(Duration commandTimeout) {
      requireNonNull(commandTimeout, "commandTimeout");
      if (commandTimeout.isNegative() || commandTimeout.isZero()) {
        throw new IllegalArgumentException("commandTimeout must be positive: " + commandTimeout);
      }
      this.commandTimeout = commandTimeout;
      return this;
    }

    /** Lettuce's I/O threads (netty event loops); 2 by default, one per connection. */
    public Builder ioThreads(int ioThreads) {
      if (ioThreads < 1) {
        throw new IllegalArgumentException("ioThreads must be at least 1: " + ioThreads);
      }
      this.ioThreads = ioThreads;
      return this;
    }

    /**
     * Connects (a data connection and a subscription) and returns the catalog.
     *
     * @throws CatalogUnavailableException when Redis cannot be reached now
     */
    public RedisCatalog build() {
      return new RedisCatalog(this);
    }
  }
}
