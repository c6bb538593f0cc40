package dev.sbx.api;

import dev.sbx.api.auth.Authenticator;
import dev.sbx.api.auth.Caller;
import dev.sbx.api.auth.RateLimiter;
import dev.sbx.api.http.ApiException;
import dev.sbx.api.http.JsonBody;
import dev.sbx.api.http.Reply;
import dev.sbx.api.node.Node;
import dev.sbx.api.node.NodeAddress;
import dev.sbx.api.node.NodeRegistry;
import dev.sbx.api.sandbox.EnvdLog;
import dev.sbx.api.sandbox.SandboxLifecycle;
import dev.sbx.api.sandbox.SandboxLogs;
import dev.sbx.api.sandbox.SandboxMetrics;
import dev.sbx.api.sandbox.SandboxRoutes;
import dev.sbx.api.sandbox.SandboxSnapshots;
import dev.sbx.api.sandbox.Tokens;
import dev.sbx.api.store.ApiKey;
import dev.sbx.api.store.CreatedApiKey;
import dev.sbx.api.store.PostgresStore;
import dev.sbx.api.store.SqliteStore;
import dev.sbx.api.store.Store;
import dev.sbx.api.store.Team;
import dev.sbx.api.template.Templates;
import dev.sbx.proxy.catalog.Catalog;
import dev.sbx.proxy.catalog.CatalogEntry;
import dev.sbx.proxy.resume.ResumeRequest;
import dev.sbx.proxy.resume.ResumeResult;
import dev.sbx.proxy.resume.SandboxResumer;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API server: E2B's REST API on Vert.x. Requests are read on the event loop and handled on
 * virtual threads (the store and the orchestrators' gRPC calls block); the answer is written back
 * on the request's context.
 */
public final class ApiServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);

  /** What an authenticated endpoint does. */
  @FunctionalInterface
  interface Endpoint {
    Reply handle(RoutingContext ctx, Caller caller);
  }

  private final ApiConfig config;
  private final Store store;
  private final NodeRegistry nodes;
  private final SandboxLifecycle lifecycle;
  private final SandboxSnapshots snapshots;
  private final Authenticator authenticator;
  private final RateLimiter rateLimiter = new RateLimiter(System::nanoTime);
  private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
  private final Vertx vertx;
  private final @Nullable CreatedApiKey firstKey;
  private final String openApi;
  private @Nullable HttpServer server;

  private ApiServer(ApiConfig config, Store store, Catalog catalog) {
    this.config = config;
    this.store = store;
    this.firstKey = store.bootstrap("Default team", config.firstTeamLimits()).orElse(null);
    this.authenticator = new Authenticator(store, config.adminToken());
    this.nodes =
        new NodeRegistry(
            store,
            config.nodes(),
            config.channels(),
            config.envdVersion(),
            config.nodeCheckInterval(),
            config.nodeTtl());
    Tokens tokens = new Tokens(config.tokenSeed());
    this.lifecycle = new SandboxLifecycle(store, nodes, catalog, tokens);
    this.snapshots = new SandboxSnapshots(store, nodes, catalog, tokens, lifecycle);
    nodes.listener(lifecycle);
    this.openApi = resource("openapi.yml");
    this.vertx = Vertx.vertx();
  }

  private static String resource(String name) {
    try (InputStream in = ApiServer.class.getResourceAsStream("/" + name)) {
      if (in == null) {
        throw new IllegalStateException(name + " is missing from the classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Opens the store (creating the first team and key on an empty one), checks the nodes once,
   * starts the evictor and listens.
   */
  public static ApiServer start(ApiConfig config, Catalog catalog) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(catalog, "catalog");
    ApiConfig.Postgres postgres = config.postgres();
    Store store =
        postgres == null
            ? SqliteStore.open(config.dataDir().resolve("sbx.db"))
            : PostgresStore.open(
                postgres.jdbcUrl(), postgres.user(), postgres.password(), postgres.poolSize());
    ApiServer api;
    try {
      api = new ApiServer(config, store, catalog);
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
    try {
      api.listen();
    } catch (RuntimeException e) {
      api.close();
      throw e;
    }
    return api;
  }

  private void listen() {
    nodes.start();
    lifecycle.startEvictor(config.evictorInterval());
    Router router = router();
    server =
        vertx
            .createHttpServer()
            .requestHandler(router)
            .listen(config.port(), config.host())
            .await();
    LOG.info("API server listening on {}:{}", config.host(), port());
  }

  /** The port the server listens on. */
  public int port() {
    HttpServer s = server;
    if (s == null) {
      throw new IllegalStateException("not listening");
    }
    return s.actualPort();
  }

  /** The key created on first start (print it once), or empty if the store had a team already. */
  public Optional<String> firstApiKey() {
    return Optional.ofNullable(firstKey).map(CreatedApiKey::secret);
  }

  public Store store() {
    return store;
  }

  /**
   * Auto-resume for a client proxy in this JVM (single-node {@code sbx up}): the decision of {@link
   * SandboxLifecycle#autoResume}, made on a virtual thread.
   */
  public SandboxResumer sandboxResumer() {
    return request -> CompletableFuture.supplyAsync(() -> lifecycle.autoResume(request), workers);
  }

  /** Checks every node now (blocking); tests use it instead of waiting for the interval. */
  public void checkNodes() {
    nodes.checkAll();
  }

  /**
   * Drops the registered nodes whose registrations stopped for the TTL as of {@code asOf}; the
   * health checks do it every interval, tests call it with a time of their choosing.
   */
  public java.util.List<String> dropLostNodes(java.time.Instant asOf) {
    return nodes.dropExpired(asOf);
  }

  /**
   * Whether every configured node has answered a check at least once, its templates registered (the
   * first check at start can miss its deadline on a busy host; the next comes an interval later).
   */
  public boolean nodesSeen() {
    return nodes.allSeen();
  }

  private Router router() {
    Router router = Router.router(vertx);
    router.route().handler(BodyHandler.create(false).setBodyLimit(config.maxBodyBytes()));

    router.get("/health").handler(ctx -> blocking(ctx, this::health));
    router
        .get("/openapi.yml")
        .handler(ctx -> send(ctx, Reply.text(200, "application/yaml", openApi)));

    Templates templates = new Templates(store);
    SandboxRoutes sandboxes =
        new SandboxRoutes(
            store,
            nodes,
            lifecycle,
            templates,
            new SandboxMetrics(nodes),
            snapshots,
            config.domain());

    authed(router, HttpMethod.POST, "/sandboxes", (ctx, c) -> sandboxes.create(ctx, c, false));
    authed(router, HttpMethod.POST, "/v2/sandboxes", (ctx, c) -> sandboxes.create(ctx, c, true));
    authed(router, HttpMethod.GET, "/sandboxes", sandboxes::listV1);
    authed(router, HttpMethod.GET, "/v2/sandboxes", sandboxes::listV2);
    authed(router, HttpMethod.GET, "/sandboxes/:sandboxID", sandboxes::get);
    authed(router, HttpMethod.DELETE, "/sandboxes/:sandboxID", sandboxes::kill);
    authed(
        router,
        HttpMethod.POST,
        "/sandboxes/:sandboxID/connect",
        (ctx, c) -> sandboxes.connect(ctx, c, false));
    authed(
        router,
        HttpMethod.POST,
        "/v2/sandboxes/:sandboxID/connect",
        (ctx, c) -> sandboxes.connect(ctx, c, true));
    authed(router, HttpMethod.POST, "/sandboxes/:sandboxID/timeout", sandboxes::timeout);
    authed(router, HttpMethod.POST, "/sandboxes/:sandboxID/refreshes", sandboxes::refresh);
    authed(router, HttpMethod.GET, "/sandboxes/:sandboxID/metrics", sandboxes::metrics);
    SandboxLogs logs = new SandboxLogs(store, nodes, lifecycle, new EnvdLog(nodes));
    authed(router, HttpMethod.GET, "/sandboxes/:sandboxID/logs", logs::v1);
    authed(router, HttpMethod.GET, "/v2/sandboxes/:sandboxID/logs", logs::v2);
    authed(router, HttpMethod.POST, "/sandboxes/:sandboxID/pause", sandboxes::pause);
    authed(router, HttpMethod.POST, "/sandboxes/:sandboxID/resume", sandboxes::resume);
    authed(router, HttpMethod.POST, "/sandboxes/:sandboxID/snapshots", sandboxes::createSnapshot);
    authed(router, HttpMethod.POST, "/sandboxes/:sandboxID/fork", sandboxes::fork);
    authed(router, HttpMethod.GET, "/snapshots", sandboxes::listSnapshots);
    authed(router, HttpMethod.DELETE, "/templates/:templateID", sandboxes::deleteTemplate);

    authed(router, HttpMethod.GET, "/templates", (ctx, c) -> templates.list(c));
    authed(
        router,
        HttpMethod.GET,
        "/templates/aliases/:alias",
        (ctx, c) -> templates.alias(c, dev.sbx.api.http.Params.path(ctx, "alias")));
    authed(
        router,
        HttpMethod.GET,
        "/templates/:templateID",
        (ctx, c) -> templates.get(c, dev.sbx.api.http.Params.path(ctx, "templateID")));

    router.post("/admin/teams").handler(ctx -> admin(ctx, this::adminCreateTeam));
    router.post("/admin/teams/:teamID/api-keys").handler(ctx -> admin(ctx, this::adminCreateKey));
    router.get("/admin/teams/:teamID/api-keys").handler(ctx -> admin(ctx, this::adminListKeys));
    router
        .delete("/admin/teams/:teamID/api-keys/:keyID")
        .handler(ctx -> admin(ctx, this::adminRevokeKey));
    router.post("/admin/nodes").handler(ctx -> admin(ctx, this::adminRegisterNode));
    router.get("/admin/nodes").handler(ctx -> admin(ctx, this::adminListNodes));
    router
        .post("/admin/sandboxes/:sandboxID/auto-resume")
        .handler(ctx -> admin(ctx, this::adminAutoResume));

    router.errorHandler(
        404,
        ctx ->
            send(
                ctx,
                Reply.error(
                    ApiException.notFound(
                        "Not found: " + ctx.request().method() + " " + ctx.request().path()))));
    router.errorHandler(
        405,
        ctx ->
            send(
                ctx,
                Reply.error(
                    new ApiException(
                        405,
                        "Method "
                            + ctx.request().method()
                            + " is not allowed on "
                            + ctx.request().path()))));
    router.errorHandler(
        413,
        ctx ->
            send(
                ctx,
                Reply.error(
                    new ApiException(
                        413, "Request body is larger than " + config.maxBodyBytes() + " bytes"))));
    router.errorHandler(400, ctx -> send(ctx, Reply.error(ApiException.badRequest("Bad request"))));
    router.errorHandler(
        500,
        ctx -> {
          LOG.error(
              "unexpected failure on {} {}",
              ctx.request().method(),
              ctx.request().path(),
              ctx.failure());
          send(
              ctx,
              Reply.error(
                  new ApiException(500, "Internal server error", "internal_server_error", null)));
        });
    return router;
  }

  private void authed(Router router, HttpMethod method, String path, Endpoint endpoint) {
    router
        .route(method, path)
        .handler(
            ctx ->
                blocking(
                    ctx,
                    () -> {
                      Caller caller =
                          authenticator.authenticate(
                              ctx.request().getHeader("X-API-Key"),
                              ctx.request().getHeader("X-Admin-Token"),
                              ctx.request().getHeader("X-Team-ID"));
                      RateLimiter.Decision decision =
                          rateLimiter.acquire(
                              caller.principal() + "@" + caller.team().id(),
                              caller.team().limits().requestsPerSecond(),
                              caller.team().limits().requestBurst());
                      if (!decision.allowed()) {
                        Reply reply =
                            Reply.error(
                                new ApiException(
                                    429,
                                    "Rate limit exceeded",
                                    null,
                                    decision.retryAfterSeconds()));
                        return rateHeaders(reply, decision);
                      }
                      return rateHeaders(endpoint.handle(ctx, caller), decision);
                    }));
  }

  private static Reply rateHeaders(Reply reply, RateLimiter.Decision decision) {
    return reply
        .header("RateLimit-Limit", String.valueOf(decision.limit()))
        .header("RateLimit-Remaining", String.valueOf(decision.remaining()))
        .header("RateLimit-Reset", String.valueOf(decision.retryAfterSeconds()));
  }

  /** Runs {@code work} on a virtual thread and writes its reply on the request's context. */
  private void blocking(RoutingContext ctx, java.util.function.Supplier<Reply> work) {
    Context context = vertx.getOrCreateContext();
    workers.execute(
        () -> {
          Reply reply;
          try {
            reply = work.get();
          } catch (ApiException e) {
            reply = Reply.error(e);
          } catch (RuntimeException e) {
            LOG.error(
                "unexpected failure on {} {}", ctx.request().method(), ctx.request().path(), e);
            reply =
                Reply.error(
                    new ApiException(500, "Internal server error", "internal_server_error", null));
          }
          Reply finalReply = reply;
          context.runOnContext(v -> send(ctx, finalReply));
        });
  }

  private static void send(RoutingContext ctx, Reply reply) {
    HttpServerResponse response = ctx.response();
    if (response.ended() || response.closed()) {
      return;
    }
    response.setStatusCode(reply.status());
    reply.headers().forEach(response::putHeader);
    String body = reply.body();
    if (body == null) {
      response.end();
    } else {
      String type = reply.contentType();
      response.putHeader("Content-Type", type == null ? "application/json" : type);
      response.end(body);
    }
  }

  private Reply health() {
    try {
      store.teams();
    } catch (RuntimeException e) {
      return Reply.text(503, "text/plain; charset=utf-8", "Store is unavailable");
    }
    return Reply.text(200, "text/plain; charset=utf-8", "Health check successful");
  }

  // operator endpoints (X-Admin-Token)

  @FunctionalInterface
  interface AdminEndpoint {
    Reply handle(RoutingContext ctx);
  }

  private void admin(RoutingContext ctx, AdminEndpoint endpoint) {
    blocking(
        ctx,
        () -> {
          if (!authenticator.isAdmin(ctx.request().getHeader("X-Admin-Token"))) {
            throw new ApiException(401, "Invalid admin token");
          }
          return endpoint.handle(ctx);
        });
  }

  private Team adminTeam(RoutingContext ctx) {
    String teamId = dev.sbx.api.http.Params.path(ctx, "teamID");
    return store
        .team(teamId)
        .orElseThrow(() -> ApiException.notFound("Team '" + teamId + "' not found"));
  }

  private Reply adminCreateTeam(RoutingContext ctx) {
    JsonBody body = JsonBody.parse(ctx.body().buffer(), false);
    String name = body.requiredString("name").trim();
    if (name.isEmpty() || name.length() > 128) {
      throw ApiException.badRequest("Team name must have 1 to 128 characters");
    }
    Team team = store.createTeam(name, config.firstTeamLimits());
    CreatedApiKey key = store.createApiKey(team.id(), "first key");
    return Reply.json(
        201,
        new JsonObject()
            .put("teamID", team.id())
            .put("name", team.name())
            .put("slug", team.slug())
            .put("apiKey", key.secret())
            .put("apiKeyID", key.key().id()));
  }

  private Reply adminCreateKey(RoutingContext ctx) {
    Team team = adminTeam(ctx);
    JsonBody body = JsonBody.parse(ctx.body().buffer(), true);
    String name = Optional.ofNullable(body.string("name")).orElse("key");
    CreatedApiKey key = store.createApiKey(team.id(), name);
    return Reply.json(201, keyJson(key.key()).put("key", key.secret()));
  }

  private Reply adminListKeys(RoutingContext ctx) {
    Team team = adminTeam(ctx);
    JsonArray keys = new JsonArray();
    store.apiKeys(team.id()).forEach(k -> keys.add(keyJson(k)));
    return Reply.json(200, keys);
  }

  private Reply adminRevokeKey(RoutingContext ctx) {
    Team team = adminTeam(ctx);
    if (!store.revokeKey(team.id(), dev.sbx.api.http.Params.path(ctx, "keyID"))) {
      throw ApiException.notFound(
          "API key '" + dev.sbx.api.http.Params.path(ctx, "keyID") + "' not found");
    }
    return Reply.noContent();
  }

  /**
   * {@code POST /admin/sandboxes/{id}/auto-resume} {@code {port, trafficAccessToken?,
   * envdAccessToken?}}: what a cluster's client proxy asks ({@code HttpSandboxResumer}). 200 with
   * the route, or E2B-shaped errors: 404 not resumable by traffic, 403 wrong token, 409 still
   * transitioning, 429 the team's limit, 502 the resume failed.
   */
  private Reply adminAutoResume(RoutingContext ctx) {
    String sandboxId =
        dev.sbx.api.sandbox.SandboxIds.fromPath(dev.sbx.api.http.Params.path(ctx, "sandboxID"));
    JsonBody body = JsonBody.parse(ctx.body().buffer(), false);
    Integer port = body.integer("port");
    if (port == null || port < 1 || port > 65535) {
      throw ApiException.validation("port must be between 1 and 65535");
    }
    ResumeResult result =
        lifecycle.autoResume(
            new ResumeRequest(
                sandboxId,
                port,
                body.string("trafficAccessToken"),
                body.string("envdAccessToken")));
    CatalogEntry route = result.route();
    if (route != null) {
      return Reply.json(
          200,
          new JsonObject()
              .put("sandboxID", route.sandboxId())
              .put("nodeID", route.nodeId())
              .put("nodeProxyHost", route.nodeProxyHost())
              .put("nodeProxyPort", route.nodeProxyPort())
              .put("trafficAccessToken", route.trafficAccessToken())
              .put("envdAccessToken", route.envdAccessToken()));
    }
    int status =
        switch (result.outcome()) {
          case NOT_FOUND -> 404;
          case FORBIDDEN -> 403;
          case TRANSITIONING -> 409;
          case LIMIT_REACHED -> 429;
          case FAILED, RESUMED -> 502;
        };
    throw new ApiException(status, result.message());
  }

  private static final java.util.regex.Pattern NODE_ID =
      java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

  /**
   * {@code POST /admin/nodes} {@code {id, grpcAddress, proxyAddress}}: an orchestrator registers
   * itself, and repeats it as its heartbeat. 201 for a new node (or a changed address), 200 for a
   * heartbeat; 400 bad input; 409 the id of a configured node.
   */
  private Reply adminRegisterNode(RoutingContext ctx) {
    JsonBody body = JsonBody.parse(ctx.body().buffer(), false);
    String id = body.requiredString("id");
    if (!NODE_ID.matcher(id).matches()) {
      throw ApiException.badRequest(
          "Invalid id '"
              + id
              + "': 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit");
    }
    String grpcAddress = body.requiredString("grpcAddress");
    HostPort grpc = HostPort.parse("grpcAddress", grpcAddress);
    HostPort proxy = HostPort.parse("proxyAddress", body.requiredString("proxyAddress"));
    NodeAddress address = new NodeAddress(id, grpc.target(), proxy.host(), proxy.port());
    NodeRegistry.Registration registration;
    try {
      registration = nodes.register(address, java.time.Instant.now());
    } catch (IllegalStateException e) {
      throw new ApiException(409, "Node '" + id + "' is configured statically and cannot register");
    }
    return Reply.json(registration.created() ? 201 : 200, nodeJson(registration.node()));
  }

  private Reply adminListNodes(RoutingContext ctx) {
    JsonArray list = new JsonArray();
    nodes.nodes().forEach(n -> list.add(nodeJson(n)));
    return Reply.json(200, list);
  }

  private static JsonObject nodeJson(Node node) {
    NodeAddress a = node.address();
    java.time.Instant seen = node.lastSeen();
    java.time.Instant beat = node.lastHeartbeat();
    return new JsonObject()
        .put("id", a.id())
        .put("grpcAddress", a.grpcTarget())
        .put("proxyAddress", HostPort.format(a.proxyHost(), a.proxyPort()))
        .put("source", node.source().name().toLowerCase(java.util.Locale.ROOT))
        .put("healthy", node.healthy())
        .put("lastSeenAt", seen == null ? null : seen.toString())
        .put("lastRegisteredAt", beat == null ? null : beat.toString());
  }

  /** {@code host:port} or {@code [v6]:port} of a registration. */
  private record HostPort(String host, int port) {
    static HostPort parse(String field, String value) {
      int colon = value.lastIndexOf(':');
      String host = colon < 0 ? "" : value.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      int port = -1;
      if (colon >= 0) {
        try {
          port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
          port = -1;
        }
      }
      if (host.isEmpty()
          || value.length() > 255
          || port < 1
          || port > 65535
          || !host.chars().allMatch(c -> c > ' ' && c < 127 && c != '/' && c != '@')) {
        throw ApiException.badRequest(
            "Invalid " + field + " '" + value + "': expected host:port with a port of 1 to 65535");
      }
      return new HostPort(host, port);
    }

    String target() {
      return format(host, port);
    }

    static String format(String host, int port) {
      return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
  }

  private static JsonObject keyJson(ApiKey k) {
    return new JsonObject()
        .put("id", k.id())
        .put("name", k.name())
        .put("mask", k.mask())
        .put("createdAt", k.createdAt().toString())
        .put("lastUsed", k.lastUsedAt() == null ? null : k.lastUsedAt().toString())
        .put("revoked", k.revoked());
  }

  @Override
  public void close() {
    HttpServer s = server;
    if (s != null) {
      s.close().await();
    }
    lifecycle.close();
    nodes.close();
    workers.shutdown();
    try {
      workers.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    vertx.close().await();
    store.close();
  }
}
