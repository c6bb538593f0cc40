package dev.sbx.proxy.forward;

import static java.util.Objects.requireNonNull;

import dev.sbx.proxy.routing.EnvdControlRoutes;
import dev.sbx.proxy.routing.ProxyError;
import dev.sbx.proxy.routing.SandboxTarget;
import io.vertx.core.net.HostAndPort;
import org.jspecify.annotations.Nullable;

/** What a {@link Router} decided for one request. */
public sealed interface Route {

  /**
   * The last hop, to a sandbox on this host at {@code address} (E2B wire protocol §3.2 step 3), as
   * the node proxy takes it: a port that refuses every dial gives the 502 "port is not open";
   * {@code maskedHost} (the sandbox's {@code maskRequestHost}, {@code ${PORT}} replaced) becomes
   * the Host of a request to any port but envd's, with the request's Host as {@code
   * X-Forwarded-Host}; an unparsable one is a 400. Connections are pooled per sandbox: its address
   * may have belonged to a sandbox now gone, and a connection kept to that one must never carry
   * this one's requests.
   */
  static Route toSandbox(String address, SandboxTarget target, @Nullable String maskedHost) {
    ProxyError portNotOpen = ProxyError.portNotOpen(target.sandboxId(), target.port());
    String pool = target.sandboxId();
    if (maskedHost == null || target.port() == EnvdControlRoutes.ENVD_PORT) {
      return new Upstream(address, target.port(), portNotOpen, null, false, pool);
    }
    if (HostAndPort.parseAuthority(maskedHost, -1) == null) {
      return new Refused(
          new ProxyError(
              400,
              target.sandboxId(),
              "Invalid " + ForwardingProxy.MASKED_HOST_HEADER + " header",
              null));
    }
    return new Upstream(address, target.port(), portNotOpen, maskedHost, false, pool);
  }

  /**
   * Forward the request to {@code host:port}.
   *
   * @param host host name or IP literal of the next hop
   * @param port its port
   * @param dialFailure the answer when no connection could be made after the retries
   * @param maskedHost the {@code Host} the sandbox's server is to see instead of the request's
   *     ({@code maskRequestHost}), or {@code null} to keep it
   * @param nextHopMasks whether the next hop applies {@code maskedHost} (it is a node proxy that
   *     still routes by the request's Host: the value travels in {@link
   *     ForwardingProxy#MASKED_HOST_HEADER}); false: this proxy sends {@code maskedHost} as the
   *     Host and the request's Host as {@code X-Forwarded-Host}
   * @param poolKey keep-alive connections are reused only among routes to {@code host:port} with
   *     the same key ({@code null}: one pool for {@code host:port}). The node proxy keys by
   *     sandbox: a sandbox's address is given to a new sandbox once the old one is gone, and a
   *     connection kept to the old one must never carry the new one's requests (E2B: no keep-alive
   *     reuse across sandboxes)
   */
  record Upstream(
      String host,
      int port,
      ProxyError dialFailure,
      @Nullable String maskedHost,
      boolean nextHopMasks,
      @Nullable String poolKey)
      implements Route {

    /** Forward with the request's Host, pooled per {@code host:port}. */
    public Upstream(String host, int port, ProxyError dialFailure) {
      this(host, port, dialFailure, null, false, null);
    }

    /** Forward with a masked Host (or the request's), pooled per {@code host:port}. */
    public Upstream(
        String host,
        int port,
        ProxyError dialFailure,
        @Nullable String maskedHost,
        boolean nextHopMasks) {
      this(host, port, dialFailure, maskedHost, nextHopMasks, null);
    }

    /** Checks the fields. */
    public Upstream {
      requireNonNull(host, "host");
      requireNonNull(dialFailure, "dialFailure");
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("port out of range: " + port);
      }
    }
  }

  /**
   * Answer the request with an error of the E2B wire protocol and forward nothing.
   *
   * @param error the status and body
   */
  record Refused(ProxyError error) implements Route {

    /** Checks the field. */
    public Refused {
      requireNonNull(error, "error");
    }
  }
}
