package dev.sbx.proxy.forward;

import dev.sbx.proxy.routing.SandboxTarget;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerRequest;
import java.util.Optional;

/**
 * Decides where a request for a sandbox goes: the only part that differs between the node proxy
 * (the sandbox's own address) and the client proxy (the node that runs it, from the catalog).
 */
@FunctionalInterface
public interface Router {

  /**
   * Routes one request. Called on the request's event loop after the target was parsed and the
   * control routes were refused; must never block (answer from memory, or complete the future
   * later). A failed future is answered with a bare 502.
   *
   * @param target the sandbox and port the request is for
   * @param request the request (its body is paused; read only headers)
   */
  Future<Route> route(SandboxTarget target, HttpServerRequest request);

  /**
   * The target of a request that names none (a shared host such as an IP address without the {@code
   * E2b-Sandbox-*} headers), if the router can tell it some other way; empty: the request gets the
   * usual plain-text 400. Called on the request's event loop; must never block. The default knows
   * none.
   */
  default Future<Optional<SandboxTarget>> unaddressed(HttpServerRequest request) {
    return Future.succeededFuture(Optional.empty());
  }
}
