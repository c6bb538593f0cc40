package dev.sbx.proxy;

import dev.sbx.proxy.catalog.Catalog;
import dev.sbx.proxy.catalog.CatalogEntry;
import dev.sbx.proxy.forward.Route;
import dev.sbx.proxy.forward.Router;
import dev.sbx.proxy.resume.ResumeRequest;
import dev.sbx.proxy.resume.ResumeResult;
import dev.sbx.proxy.resume.SandboxResumer;
import dev.sbx.proxy.routing.EnvdControlRoutes;
import dev.sbx.proxy.routing.LocalNode;
import dev.sbx.proxy.routing.ProxyError;
import dev.sbx.proxy.routing.SandboxTarget;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client proxy's routing (E2B wire protocol §3.2 steps 1 and 2): the node that runs the
 * sandbox, from the catalog. Unknown sandboxes get the 502 "not found". A paused or transitioning
 * sandbox is handed to the {@link SandboxResumer} when there is one (auto-resume: the request
 * waits, body paused, until the sandbox runs and is then forwarded; the resumer's refusals become
 * E2B's 502/403/409/429); without one, paused gives the 502 and transitioning the 409. Requests to
 * a non-envd port of a sandbox with a traffic token get the 403 unless they carry that token.
 * Requests to a non-envd port of a sandbox with a {@code maskRequestHost} carry the masked Host to
 * the node proxy in {@link dev.sbx.proxy.forward.ForwardingProxy#MASKED_HOST_HEADER}.
 */
final class CatalogRouter implements Router {

  private static final Logger LOG = LoggerFactory.getLogger(CatalogRouter.class);

  /** envd's X-Access-Token, which auto-resume checks on envd's port. */
  static final String ENVD_TOKEN_HEADER = "X-Access-Token";

  private final Catalog catalog;
  private final @Nullable SandboxResumer resumer;
  private final @Nullable LocalNode localNode;

  CatalogRouter(Catalog catalog) {
    this(catalog, null, null);
  }

  CatalogRouter(Catalog catalog, @Nullable SandboxResumer resumer, @Nullable LocalNode localNode) {
    this.catalog = catalog;
    this.resumer = resumer;
    this.localNode = localNode;
  }

  @Override
  public Future<Route> route(SandboxTarget target, HttpServerRequest request) {
    CompletionStage<Optional<CatalogEntry>> found;
    try {
      found = catalog.find(target.sandboxId());
    } catch (RuntimeException e) {
      return Future.succeededFuture(unavailable(target, e));
    }
    CompletableFuture<Optional<CatalogEntry>> done = completedOrNull(found);
    if (done != null) {
      // answered from memory (in-memory catalog, cache hit): no hop through the event loop
      Optional<CatalogEntry> entry;
      try {
        entry = done.join();
      } catch (RuntimeException e) {
        return Future.succeededFuture(unavailable(target, e));
      }
      return decideOrResume(target, request, entry);
    }
    Future<Optional<CatalogEntry>> later = onCurrentContext(found);
    return later.transform(
        answered ->
            answered.succeeded()
                ? decideOrResume(target, request, answered.result())
                : Future.succeededFuture(unavailable(target, answered.cause())));
  }

  private Future<Route> decideOrResume(
      SandboxTarget target, HttpServerRequest request, Optional<CatalogEntry> entry) {
    SandboxResumer current = resumer;
    if (current == null
        || entry.isEmpty()
        || entry.get().state() == CatalogEntry.RouteState.RUNNING) {
      return Future.succeededFuture(decide(target, request, entry, localNode));
    }
    ResumeRequest ask =
        new ResumeRequest(
            target.sandboxId(),
            target.port(),
            request.getHeader(ProxyError.TRAFFIC_TOKEN_HEADER),
            request.getHeader(ENVD_TOKEN_HEADER));
    CompletionStage<ResumeResult> resumed;
    try {
      resumed = current.resume(ask);
    } catch (RuntimeException e) {
      return Future.succeededFuture(resumeFailed(target, e));
    }
    return onCurrentContext(resumed)
        .transform(
            answered ->
                Future.succeededFuture(
                    answered.succeeded()
                        ? afterResume(target, request, answered.result(), localNode)
                        : resumeFailed(target, answered.cause())));
  }

  private static Route resumeFailed(SandboxTarget target, Throwable failure) {
    LOG.warn("auto-resume of sandbox {} failed", target.sandboxId(), failure);
    return new Route.Refused(
        ProxyError.resumeFailed(target.sandboxId(), "The sandbox could not be resumed"));
  }

  static Route afterResume(
      SandboxTarget target,
      HttpServerRequest request,
      ResumeResult result,
      @Nullable LocalNode localNode) {
    String sandboxId = target.sandboxId();
    CatalogEntry route = result.route();
    return switch (result.outcome()) {
      case RESUMED ->
          route == null
              ? new Route.Refused(ProxyError.sandboxNotFound(sandboxId))
              : running(target, request, route, localNode);
      case NOT_FOUND -> new Route.Refused(ProxyError.sandboxNotFound(sandboxId));
      case FORBIDDEN -> new Route.Refused(ProxyError.resumeForbidden(sandboxId));
      case TRANSITIONING -> new Route.Refused(ProxyError.transitioning(sandboxId));
      case LIMIT_REACHED ->
          new Route.Refused(ProxyError.resumeLimitReached(sandboxId, result.message()));
      case FAILED -> new Route.Refused(ProxyError.resumeFailed(sandboxId, result.message()));
    };
  }

  /**
   * A signed file URL sent to the shared sandbox address (the SDK's {@code E2B_SANDBOX_URL}) names
   * no sandbox: the one whose envd token produced the signature is the target (E2B's v1 signature,
   * {@code "v1_" + base64(sha256("<path>:<read|write>:<username>:<token>[:<expiration>]"))}). envd
   * checks the signature (and its expiry) again.
   */
  @Override
  public Future<Optional<SandboxTarget>> unaddressed(HttpServerRequest request) {
    String signature = request.getParam("signature");
    String operation =
        switch (request.method().name()) {
          case "GET", "HEAD" -> "read";
          case "POST", "PUT" -> "write";
          default -> null;
        };
    if (signature == null || operation == null || !"/files".equals(request.path())) {
      return Future.succeededFuture(Optional.empty());
    }
    String payload =
        nonNull(request.getParam("path"))
            + ":"
            + operation
            + ":"
            + nonNull(request.getParam("username"))
            + ":";
    String expiration = request.getParam("signature_expiration");
    String suffix = expiration == null || expiration.isEmpty() ? "" : ":" + expiration;
    CompletionStage<List<CatalogEntry>> all;
    try {
      all = catalog.entries();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    Future<List<CatalogEntry>> entries = onCurrentContext(all);
    return entries.map(
        list -> {
          LOG.debug(
              "signed {} of {}: looking among {} catalog entries",
              operation,
              request.getParam("path"),
              list.size());
          for (CatalogEntry entry : list) {
            String token = entry.envdAccessToken();
            if (token != null
                && entry.state() == CatalogEntry.RouteState.RUNNING
                && signatureMatches(payload + token + suffix, signature)) {
              return Optional.of(new SandboxTarget(entry.sandboxId(), EnvdControlRoutes.ENVD_PORT));
            }
          }
          return Optional.empty();
        });
  }

  /** A catalog answer as a future completed on the caller's event loop (the request's). */
  private static <T> Future<T> onCurrentContext(CompletionStage<T> stage) {
    Context context = Vertx.currentContext();
    return context == null
        ? Future.fromCompletionStage(stage)
        : Future.fromCompletionStage(stage, context);
  }

  private static String nonNull(@Nullable String value) {
    return value == null ? "" : value;
  }

  private static boolean signatureMatches(String payload, String signature) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(payload.getBytes(StandardCharsets.UTF_8));
      String expected = "v1_" + Base64.getEncoder().withoutPadding().encodeToString(digest);
      return MessageDigest.isEqual(
          expected.getBytes(StandardCharsets.UTF_8), signature.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  private static @Nullable CompletableFuture<Optional<CatalogEntry>> completedOrNull(
      CompletionStage<Optional<CatalogEntry>> stage) {
    if (stage instanceof CompletableFuture<Optional<CatalogEntry>> future && future.isDone()) {
      return future;
    }
    return null;
  }

  private static Route unavailable(SandboxTarget target, Throwable failure) {
    LOG.warn("catalog lookup failed for sandbox {}", target.sandboxId(), failure);
    return new Route.Refused(ProxyError.catalogUnavailable(target.sandboxId()));
  }

  static Route decide(
      SandboxTarget target,
      HttpServerRequest request,
      Optional<CatalogEntry> found,
      @Nullable LocalNode localNode) {
    String sandboxId = target.sandboxId();
    if (found.isEmpty()) {
      return new Route.Refused(ProxyError.sandboxNotFound(sandboxId));
    }
    CatalogEntry entry = found.get();
    return switch (entry.state()) {
      // without a resumer a paused sandbox is "not found", as E2B answers without auto-resume
      case PAUSED -> new Route.Refused(ProxyError.sandboxNotFound(sandboxId));
      case TRANSITIONING -> new Route.Refused(ProxyError.transitioning(sandboxId));
      case RUNNING -> running(target, request, entry, localNode);
    };
  }

  private static Route running(
      SandboxTarget target,
      HttpServerRequest request,
      CatalogEntry entry,
      @Nullable LocalNode localNode) {
    String expected = entry.trafficAccessToken();
    // envd's port is exempt: envd checks X-Access-Token itself (§3.2 step 3)
    if (expected != null && target.port() != EnvdControlRoutes.ENVD_PORT) {
      String given = request.getHeader(ProxyError.TRAFFIC_TOKEN_HEADER);
      if (given == null) {
        return new Route.Refused(ProxyError.trafficTokenMissing(target.sandboxId()));
      }
      if (!MessageDigest.isEqual(
          given.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8))) {
        return new Route.Refused(ProxyError.trafficTokenInvalid(target.sandboxId()));
      }
    }
    if (localNode != null && localNode.isNodeProxy(entry.nodeProxyHost(), entry.nodeProxyPort())) {
      // the node proxy's hop, taken here (see LocalNode)
      String address = localNode.sandboxAddress(target.sandboxId());
      return address == null
          ? new Route.Refused(ProxyError.sandboxNotFound(target.sandboxId()))
          : Route.toSandbox(address, target, entry.maskedHost(target.port()));
    }
    return new Route.Upstream(
        entry.nodeProxyHost(),
        entry.nodeProxyPort(),
        // the node could not be reached: the sandbox is not routable (§3.2 error table)
        ProxyError.sandboxNotFound(target.sandboxId()),
        // maskRequestHost: the node proxy routes by the request's Host and masks it last
        entry.maskedHost(target.port()),
        true);
  }
}
