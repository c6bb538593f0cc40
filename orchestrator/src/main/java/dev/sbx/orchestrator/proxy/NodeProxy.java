package dev.sbx.orchestrator.proxy;

import static java.util.Objects.requireNonNull;

import dev.sbx.proxy.forward.ExchangeListener;
import dev.sbx.proxy.forward.ForwardingProxy;
import dev.sbx.proxy.forward.ForwardingSettings;
import dev.sbx.proxy.forward.Route;
import dev.sbx.proxy.routing.ProxyError;
import dev.sbx.proxy.routing.SandboxTarget;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The node proxy (E2B wire protocol §3.2 step 3): maps each request to a sandbox on this host,
 * looks its address up in {@link SandboxAddresses} and forwards to {@code http://<address>:<port>}
 * with Host, method, path, query and end-to-end headers kept; unknown sandboxes get the 502 "not
 * found" body and a port that refuses five dials the 502 "port is not open" body. No {@code
 * X-Forwarded-*} headers of its own. A request with {@link ForwardingProxy#MASKED_HOST_HEADER} (set
 * by the client proxy for a sandbox with {@code maskRequestHost}) to a port other than envd's is
 * sent with that value as its Host and its own Host as {@code X-Forwarded-Host} (E2B wire protocol
 * §3.2 step 3).
 *
 * <p>The routing, control-route blocking, error bodies and the streaming/WebSocket forwarding are
 * the proxy module's ({@link ForwardingProxy}); this class only says where a sandbox listens.
 */
public final class NodeProxy implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(NodeProxy.class.getName());

  private final Vertx vertx;
  private final ForwardingProxy proxy;

  private NodeProxy(Vertx vertx, ForwardingProxy proxy) {
    this.vertx = vertx;
    this.proxy = proxy;
  }

  /**
   * Starts a proxy listening on {@code settings.host():settings.port()} and returns once it accepts
   * connections.
   *
   * @throws IllegalStateException when the port cannot be bound
   */
  public static NodeProxy start(NodeProxySettings settings, SandboxAddresses addresses) {
    requireNonNull(settings, "settings");
    requireNonNull(addresses, "addresses");
    Vertx vertx = Vertx.vertx();
    ForwardingSettings forwarding = settings.forwarding();
    try {
      ForwardingProxy proxy =
          ForwardingProxy.start(
              vertx,
              forwarding,
              (target, request) -> route(addresses, target, request),
              ExchangeListener.NONE);
      return new NodeProxy(vertx, proxy);
    } catch (RuntimeException e) {
      closeQuietly(vertx);
      throw e;
    }
  }

  private static Future<Route> route(
      SandboxAddresses addresses, SandboxTarget target, HttpServerRequest request) {
    String address = addresses.address(target.sandboxId());
    if (address == null) {
      return Future.succeededFuture(
          new Route.Refused(ProxyError.sandboxNotFound(target.sandboxId())));
    }
    return Future.succeededFuture(
        Route.toSandbox(address, target, request.getHeader(ForwardingProxy.MASKED_HOST_HEADER)));
  }

  /** The port the proxy listens on (the bound one when {@code settings.port()} was 0). */
  public int port() {
    return proxy.port();
  }

  /** Stops listening, closes all connections and the event loops. */
  @Override
  public void close() {
    proxy.close();
    closeQuietly(vertx);
  }

  private static void closeQuietly(Vertx vertx) {
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      LOG.log(Level.WARNING, "node proxy did not close cleanly", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
