package dev.sbx.proxy.forward;

import static java.util.Objects.requireNonNull;

import dev.sbx.proxy.routing.ProxyError;

/** What a {@link Router} decided for one request. */
public sealed interface Route {

  /**
   * Forward the request to {@code host:port}.
   *
   * @param host host name or IP literal of the next hop
   * @param port its port
   * @param dialFailure the answer when no connection could be made after the retries
   */
  record Upstream(String host, int port, ProxyError dialFailure) implements Route {

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
