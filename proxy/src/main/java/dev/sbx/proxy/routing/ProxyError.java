package dev.sbx.proxy.routing;

import static java.util.Objects.requireNonNull;

import com.google.gson.JsonObject;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * An error the proxy answers itself (E2B wire protocol §3.2, error table): JSON {@code
 * {"sandboxId","message",["port",]["connectionLimit",]"code"}} for programs, a small HTML page for
 * browser navigations.
 *
 * @param status the HTTP status, repeated as {@code code}
 * @param sandboxId the sandbox the request was for
 * @param message the human-readable message
 * @param port the closed port, only for "port is not open"
 * @param connectionLimit the per-sandbox connection limit, only for "too many connections"
 */
public record ProxyError(
    int status,
    String sandboxId,
    String message,
    @Nullable Integer port,
    @Nullable Integer connectionLimit) {

  /** An error without a connection limit. */
  public ProxyError(int status, String sandboxId, String message, @Nullable Integer port) {
    this(status, sandboxId, message, port, null);
  }

  /** Content type of the JSON bodies. */
  public static final String JSON_CONTENT_TYPE = "application/json; charset=utf-8";

  /** The request header that carries a private sandbox's traffic access token. */
  public static final String TRAFFIC_TOKEN_HEADER = "e2b-traffic-access-token";

  /** Content type of the HTML pages. */
  public static final String HTML_CONTENT_TYPE = "text/html; charset=utf-8";

  /** Checks the fields. */
  public ProxyError {
    requireNonNull(sandboxId, "sandboxId");
    requireNonNull(message, "message");
  }

  /** 429: the sandbox has as many exchanges through this proxy as it may have (§3.2 table). */
  public static ProxyError tooManyConnections(String sandboxId, int limit) {
    return new ProxyError(
        429,
        sandboxId,
        "The sandbox has too many concurrent incoming connections (limit: " + limit + ")",
        null,
        limit);
  }

  /** 502: no sandbox with this id runs on this host. */
  public static ProxyError sandboxNotFound(String sandboxId) {
    return new ProxyError(502, sandboxId, "The sandbox was not found", null);
  }

  /** 502: the sandbox runs but nothing accepted a connection on the port, after the retries. */
  public static ProxyError portNotOpen(String sandboxId, int port) {
    return new ProxyError(502, sandboxId, "The sandbox is running but port is not open", port);
  }

  /** 409: the sandbox is being paused or resumed. */
  public static ProxyError transitioning(String sandboxId) {
    return new ProxyError(
        409, sandboxId, "The sandbox is still transitioning. Try again in a moment.", null);
  }

  /** 403: the request's token does not allow resuming the paused sandbox (auto-resume). */
  public static ProxyError resumeForbidden(String sandboxId) {
    return new ProxyError(
        403, sandboxId, "This sandbox can't be resumed with the credentials provided.", null);
  }

  /** 429: resuming the sandbox would exceed its team's concurrency limit (auto-resume). */
  public static ProxyError resumeLimitReached(String sandboxId, String message) {
    return new ProxyError(
        429, sandboxId, message.isEmpty() ? "Sandbox limit reached" : message, null);
  }

  /** 502: the paused sandbox could not be resumed (auto-resume). */
  public static ProxyError resumeFailed(String sandboxId, String message) {
    return new ProxyError(502, sandboxId, message, null);
  }

  /** 403: the sandbox takes only traffic that carries its token, and this request has none. */
  public static ProxyError trafficTokenMissing(String sandboxId) {
    return new ProxyError(
        403,
        sandboxId,
        "Sandbox is secured with traffic access token. Token header '"
            + TRAFFIC_TOKEN_HEADER
            + "' is missing",
        null);
  }

  /** 403: the request's traffic token is not the sandbox's. */
  public static ProxyError trafficTokenInvalid(String sandboxId) {
    return new ProxyError(
        403,
        sandboxId,
        "Sandbox is secured with traffic access token. Provided token in header '"
            + TRAFFIC_TOKEN_HEADER
            + "' is invalid",
        null);
  }

  /**
   * 502: the route of the sandbox could not be looked up (the catalog failed), so it is not
   * routable now; the SDKs treat it like any 502.
   */
  public static ProxyError catalogUnavailable(String sandboxId) {
    return new ProxyError(
        502, sandboxId, "The sandbox route could not be looked up. Try again in a moment.", null);
  }

  /** 404: one of envd's control routes, which only the orchestrator may call. */
  public static ProxyError controlRoute(String sandboxId) {
    return new ProxyError(
        404, sandboxId, "This path is an internal route of the sandbox and is not reachable", null);
  }

  /**
   * Whether a request looks like a browser navigation: a browser User-Agent, no {@code Accept}
   * asking for JSON, and not marked as script-initiated by {@code Sec-Fetch-Mode}.
   */
  public static boolean isBrowserNavigation(
      @Nullable String userAgent, @Nullable String accept, @Nullable String secFetchMode) {
    if (userAgent == null || !userAgent.startsWith("Mozilla/")) {
      return false;
    }
    if (accept != null && accept.toLowerCase(Locale.ROOT).contains("application/json")) {
      return false;
    }
    return secFetchMode == null || secFetchMode.equalsIgnoreCase("navigate");
  }

  /** The JSON body. */
  public String json() {
    JsonObject body = new JsonObject();
    body.addProperty("sandboxId", sandboxId);
    body.addProperty("message", message);
    if (port != null) {
      body.addProperty("port", port);
    }
    if (connectionLimit != null) {
      body.addProperty("connectionLimit", connectionLimit);
    }
    body.addProperty("code", status);
    return body.toString();
  }

  /** The HTML page for browsers. */
  public String html() {
    String text = escape(message);
    String detail = port == null ? "" : " (port " + port + ")";
    return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>"
        + text
        + "</title></head>\n<body><h1>"
        + text
        + "</h1>\n<p>Sandbox <code>"
        + escape(sandboxId)
        + "</code>"
        + detail
        + ", error "
        + status
        + ".</p></body></html>\n";
  }

  private static String escape(String text) {
    StringBuilder out = new StringBuilder(text.length());
    for (char c : text.toCharArray()) {
      switch (c) {
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '&' -> out.append("&amp;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }
}
