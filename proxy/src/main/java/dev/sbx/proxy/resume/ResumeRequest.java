package dev.sbx.proxy.resume;

import static java.util.Objects.requireNonNull;

import org.jspecify.annotations.Nullable;

/**
 * A request for a paused sandbox, as much of it as the control plane needs to decide.
 *
 * @param sandboxId the sandbox
 * @param port the sandbox port the request is for
 * @param trafficAccessToken the request's {@code e2b-traffic-access-token} header, or null
 * @param envdAccessToken the request's {@code X-Access-Token} header, or null
 */
public record ResumeRequest(
    String sandboxId,
    int port,
    @Nullable String trafficAccessToken,
    @Nullable String envdAccessToken) {

  /** Checks the fields. */
  public ResumeRequest {
    requireNonNull(sandboxId, "sandboxId");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
  }
}
