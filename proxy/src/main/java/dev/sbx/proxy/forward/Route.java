package dev.sbx.proxy.forward;

import static java.util.Objects.requireNonNull;

import dev.sbx.proxy.routing.ProxyError;
import org.jspecify.annotations.Nullable;

/** What a {@link Router} decided for one request. */
public sealed interface Route {

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
   */
  record Upstream(
      String host,
      int port,
      ProxyError dialFailure,
      @Nullable String maskedHost,
      boolean nextHopMasks)
      implements Route {

    /** Forward with the request's Host. */
    public Upstream(String host, int port, ProxyError dialFailure) {
      this(host, port, dialFailure, null, false);
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
