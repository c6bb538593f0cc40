package dev.sbx.proxy.forward;

import static java.util.Objects.requireNonNull;

import dev.sbx.proxy.routing.SandboxTarget;
import org.jspecify.annotations.Nullable;

/**
 * One finished request through a proxy, as its access log and metrics see it.
 *
 * @param method the request method
 * @param uri the request target as sent
 * @param host the request's Host (authority), or {@code null}
 * @param remoteAddress the client's address ({@code ip:port})
 * @param target the sandbox and port, or {@code null} when the request named none (a 400)
 * @param status the status sent (101 for an upgrade; 0 when the connection closed before a status
 *     was sent)
 * @param bytesReceived request body bytes read from the client (0 for tunnels)
 * @param bytesSent response body bytes written to the client (0 for tunnels)
 * @param durationNanos from the request's arrival to the end of the response (or of the tunnel)
 */
public record Exchange(
    String method,
    String uri,
    @Nullable String host,
    String remoteAddress,
    @Nullable SandboxTarget target,
    int status,
    long bytesReceived,
    long bytesSent,
    long durationNanos) {

  /** Checks the fields. */
  public Exchange {
    requireNonNull(method, "method");
    requireNonNull(uri, "uri");
    requireNonNull(remoteAddress, "remoteAddress");
  }
}
