package dev.sbx.proxy.catalog.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sbx.proxy.catalog.Catalog;
import dev.sbx.proxy.catalog.CatalogContractTest;
import dev.sbx.proxy.catalog.CatalogEntry;
import dev.sbx.proxy.catalog.CatalogEntry.RouteState;
import dev.sbx.proxy.catalog.CatalogUnavailableException;
import dev.sbx.testing.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The catalog contract on a real {@code redis-server}, plus what only the Redis catalog does. */
class RedisCatalogTest extends CatalogContractTest {
  /** Long enough that only an invalidation, never an expiry, explains a change seen in a test. */
  private static final Duration LONG_TTL = Duration.ofMinutes(10);

  private static final AtomicInteger NAMESPACES = new AtomicInteger();
  private static RedisServer redis;

  private final List<Catalog> opened = new ArrayList<>();

  @BeforeAll
  static void startRedis() throws Exception {
    redis = RedisServer.start();
  }

  @AfterAll
  static void stopRedis() {
    redis.close();
  }

  @AfterEach
  void closeOpened() {
    opened.forEach(Catalog::close);
  }

  /** Every test has its own namespace in the shared Redis. */
  @Override
  protected Catalog newCatalog() {
    return open(RedisCatalog.builder(redis.uri()).keyPrefix(freshPrefix()));
  }

  private static String freshPrefix() {
    return "t" + NAMESPACES.incrementAndGet() + ":";
  }

  private RedisCatalog open(RedisCatalog.Builder builder) {
    RedisCatalog catalog = builder.build();
    opened.add(catalog);
    return catalog;
  }

  private static <T> T withRedis(
      java.util.function.Function<RedisCommands<String, String>, T> use) {
    RedisClient client = RedisClient.create(redis.uri());
    try (StatefulRedisConnection<String, String> connection = client.connect()) {
      return use.apply(connection.sync());
    } finally {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
  }

  @Test
  void anEntryIsAHashUnderTheDefaultNamespace() {
    RedisCatalog catalog = open(RedisCatalog.builder(redis.uri()));
    catalog.put(new CatalogEntry("ns-1", "node-a", "10.0.0.7", 5007, "tok", RouteState.RUNNING));
    catalog.put(new CatalogEntry("ns-2", "node-b", "10.0.0.8", 5007, null, RouteState.PAUSED));
    try {
      Map<String, String> first = withRedis(r -> r.hgetall("sbx:catalog:ns-1"));
      Map<String, String> second = withRedis(r -> r.hgetall("sbx:catalog:ns-2"));
      assertThat(first)
          .isEqualTo(
              Map.of("n", "node-a", "h", "10.0.0.7", "p", "5007", "s", "RUNNING", "t", "tok"));
      assertThat(second)
          .isEqualTo(Map.of("n", "node-b", "h", "10.0.0.8", "p", "5007", "s", "PAUSED"));
    } finally {
      catalog.remove("ns-1");
      catalog.remove("ns-2");
    }
    long left = withRedis(r -> r.exists("sbx:catalog:ns-1", "sbx:catalog:ns-2"));
    assertThat(left).isZero();
  }

  @Test
  void twoCatalogsSeeEachOthersPutsAndRemovesAtOnce() {
    String prefix = freshPrefix();
    RedisCatalog api = open(RedisCatalog.builder(redis.uri()).keyPrefix(prefix).cacheTtl(LONG_TTL));
    RedisCatalog proxy =
        open(RedisCatalog.builder(redis.uri()).keyPrefix(prefix).cacheTtl(LONG_TTL));

    // the proxy caches "absent" for ten minutes, and still sees the sandbox once the API puts it
    assertThat(find(proxy, "sb1")).isEmpty();
    var running = new CatalogEntry("sb1", "node-a", "10.0.0.1", 5007, "t1", RouteState.RUNNING);
    api.put(running);
    await().atMost(Duration.ofSeconds(10)).until(() -> find(proxy, "sb1").isPresent());
    assertThat(find(proxy, "sb1")).contains(running);

    // a pause, then a kill, are seen at once too (the proxy has the running entry cached)
    var paused = new CatalogEntry("sb1", "node-a", "10.0.0.1", 5007, "t1", RouteState.PAUSED);
    api.put(paused);
    await().atMost(Duration.ofSeconds(10)).until(() -> find(proxy, "sb1").equals(find(api, "sb1")));
    assertThat(find(proxy, "sb1")).contains(paused);
    api.remove("sb1");
    await().atMost(Duration.ofSeconds(10)).until(() -> find(proxy, "sb1").isEmpty());

    // and the other way round
    var other = new CatalogEntry("sb2", "node-b", "10.0.0.2", 5007, null, RouteState.RUNNING);
    assertThat(find(api, "sb2")).isEmpty();
    proxy.put(other);
    await().atMost(Duration.ofSeconds(10)).until(() -> find(api, "sb2").isPresent());
    assertThat(find(api, "sb2")).contains(other);
  }

  @Test
  void aCatalogInAnotherNamespaceSeesNothing() {
    RedisCatalog first = open(RedisCatalog.builder(redis.uri()).keyPrefix(freshPrefix()));
    RedisCatalog second = open(RedisCatalog.builder(redis.uri()).keyPrefix(freshPrefix()));
    first.put(new CatalogEntry("sb1", "node-a", "10.0.0.1", 5007, null, RouteState.RUNNING));
    assertThat(find(first, "sb1")).isPresent();
    assertThat(find(second, "sb1")).isEmpty();
  }

  @Test
  void aWriteThatBypassesTheCatalogIsSeenAfterTheTtl() {
    String prefix = freshPrefix();
    RedisCatalog catalog =
        open(RedisCatalog.builder(redis.uri()).keyPrefix(prefix).cacheTtl(Duration.ofMillis(300)));
    assertThat(find(catalog, "sb1")).isEmpty();
    withRedis(
        r -> r.hset(prefix + "sb1", Map.of("n", "x", "h", "h", "p", "1", "s", "TRANSITIONING")));
    await().atMost(Duration.ofSeconds(10)).until(() -> find(catalog, "sb1").isPresent());
    assertThat(find(catalog, "sb1").orElseThrow().state()).isEqualTo(RouteState.TRANSITIONING);
  }

  @Test
  void aMalformedEntryFailsTheFindWithAClearError() {
    String prefix = freshPrefix();
    RedisCatalog catalog = open(RedisCatalog.builder(redis.uri()).keyPrefix(prefix));
    withRedis(
        r -> r.hset(prefix + "bad-port", Map.of("n", "x", "h", "h", "p", "99999", "s", "RUNNING")));
    withRedis(r -> r.hset(prefix + "no-host", Map.of("n", "x", "p", "1", "s", "RUNNING")));
    withRedis(r -> r.hset(prefix + "bad-state", Map.of("n", "x", "h", "h", "p", "1", "s", "GONE")));

    assertThatThrownBy(() -> find(catalog, "bad-port"))
        .isInstanceOf(CompletionException.class)
        .cause()
        .isInstanceOf(CatalogUnavailableException.class)
        .hasMessageContaining(prefix + "bad-port is malformed");
    assertThatThrownBy(() -> find(catalog, "no-host"))
        .cause()
        .isInstanceOf(CatalogUnavailableException.class)
        .hasMessageContaining("field 'h' is missing");
    assertThatThrownBy(() -> find(catalog, "bad-state"))
        .cause()
        .isInstanceOf(CatalogUnavailableException.class)
        .hasMessageContaining("is malformed");
  }

  @Test
  void redisDownFailsFindsAndWritesAndTheCatalogRecoversWhenItIsBack() throws Exception {
    String prefix = freshPrefix();
    RedisCatalog catalog =
        open(RedisCatalog.builder(redis.uri()).keyPrefix(prefix).cacheTtl(LONG_TTL));
    RedisCatalog other =
        open(RedisCatalog.builder(redis.uri()).keyPrefix(prefix).cacheTtl(LONG_TTL));
    var entry = new CatalogEntry("sb1", "node-a", "10.0.0.1", 5007, null, RouteState.RUNNING);
    catalog.put(entry);
    assertThat(find(catalog, "sb1")).contains(entry);

    redis.stop();
    try {
      // the cached route is dropped with the connection: a find fails, it does not hang
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThatThrownBy(() -> find(catalog, "sb1"))
                      .isInstanceOf(CompletionException.class)
                      .cause()
                      .isInstanceOf(CatalogUnavailableException.class)
                      .hasMessageContaining("Redis catalog at 127.0.0.1:" + redis.port()));
      assertThatThrownBy(() -> catalog.put(entry))
          .isInstanceOf(CatalogUnavailableException.class)
          .hasMessageContaining("put sb1");
      assertThatThrownBy(() -> catalog.remove("sb1"))
          .isInstanceOf(CatalogUnavailableException.class);
    } finally {
      redis.launch();
    }

    // an empty Redis came back: no stale route survives, and writes work again
    await()
        .atMost(Duration.ofSeconds(20))
        .ignoreExceptions()
        .until(() -> find(catalog, "sb1").isEmpty());
    await()
        .atMost(Duration.ofSeconds(20))
        .ignoreExceptions()
        .until(() -> find(other, "sb1").isEmpty());
    catalog.put(entry);
    assertThat(find(catalog, "sb1")).contains(entry);

    // the subscription came back too: the other catalog sees a kill at once
    await().atMost(Duration.ofSeconds(10)).until(() -> find(other, "sb1").isPresent());
    catalog.remove("sb1");
    await().atMost(Duration.ofSeconds(10)).until(() -> find(other, "sb1").isEmpty());
  }

  @Test
  void aRedisThatCannotBeReachedFailsTheBuildClearly() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    int closedPort = port;
    assertThatThrownBy(() -> RedisCatalog.builder("redis://127.0.0.1:" + closedPort).build())
        .isInstanceOf(CatalogUnavailableException.class)
        .hasMessageContaining("127.0.0.1:" + closedPort + " is unreachable");
  }

  @Test
  void theBuilderRefusesBadSettings() {
    assertThatThrownBy(() -> RedisCatalog.builder("http://not-redis"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RedisCatalog.builder(redis.uri()).keyPrefix(""))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RedisCatalog.builder(redis.uri()).commandTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RedisCatalog.builder(redis.uri()).cacheTtl(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aClosedCatalogFailsFinds() {
    RedisCatalog catalog = open(RedisCatalog.builder(redis.uri()).keyPrefix(freshPrefix()));
    catalog.close();
    assertThatThrownBy(() -> find(catalog, "sb1"))
        .cause()
        .isInstanceOf(CatalogUnavailableException.class)
        .hasMessageContaining("closed");
  }
}
