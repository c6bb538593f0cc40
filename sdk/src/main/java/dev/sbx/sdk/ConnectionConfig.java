package dev.sbx.sdk;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Where and how the SDK talks to the control-plane API and to envd, resolved the way E2B's SDKs do
 * it: an explicit builder value wins, then the environment variable, then the default.
 *
 * <table>
 *   <caption>settings</caption>
 *   <tr><th>builder</th><th>environment</th><th>default</th></tr>
 *   <tr><td>{@code apiKey}</td><td>{@code E2B_API_KEY}</td><td>none; API calls then fail with
 *       {@link AuthenticationException}</td></tr>
 *   <tr><td>{@code domain}</td><td>{@code E2B_DOMAIN}</td><td>{@code e2b.app}</td></tr>
 *   <tr><td>{@code apiUrl}</td><td>{@code E2B_API_URL}</td><td>{@code https://api.<domain>}, in
 *       debug mode {@code http://localhost:3000}</td></tr>
 *   <tr><td>{@code sandboxUrl}</td><td>{@code E2B_SANDBOX_URL}</td><td>none: see {@link
 *       #envdUrl}</td></tr>
 *   <tr><td>{@code debug}</td><td>{@code E2B_DEBUG} (only {@code true}, any case)</td>
 *       <td>false</td></tr>
 *   <tr><td>{@code requestTimeout}</td><td>–</td><td>60 s per HTTP request; zero = none</td></tr>
 * </table>
 *
 * <p>In debug mode no sandbox API call is made: {@link Sandbox#create} and {@link Sandbox#connect}
 * return a local sandbox {@code debug_sandbox_id} whose envd is {@code http://localhost:49983}
 * (unless {@code sandboxUrl} is set), and kill, setTimeout and getMetrics do nothing.
 */
public final class ConnectionConfig {
  /** envd's port in every sandbox. */
  public static final int ENVD_PORT = 49983;

  /** The default domain. */
  public static final String DEFAULT_DOMAIN = "e2b.app";

  /** The default time limit of one HTTP request. */
  public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(60);

  /** Domains whose sandboxes share the envd host {@code sandbox.<domain>}, routed by header. */
  private static final Set<String> SHARED_HOST_DOMAINS =
      Set.of("e2b.app", "e2b.dev", "e2b.pro", "e2b-staging.dev");

  private final @Nullable String apiKey;
  private final String domain;
  private final String apiUrl;
  private final @Nullable String sandboxUrl;
  private final boolean debug;
  private final Duration requestTimeout;
  private final Map<String, String> apiHeaders;
  private final int retries;

  private ConnectionConfig(Builder builder) {
    Map<String, String> env = builder.environment;
    this.apiKey = firstNonEmpty(builder.apiKey, env.get("E2B_API_KEY"));
    this.debug =
        builder.debug != null
            ? builder.debug
            : "true".equals(env.getOrDefault("E2B_DEBUG", "").toLowerCase(Locale.ROOT));
    String resolvedDomain = firstNonEmpty(builder.domain, env.get("E2B_DOMAIN"));
    this.domain = resolvedDomain == null ? DEFAULT_DOMAIN : resolvedDomain;
    String resolvedApiUrl = firstNonEmpty(builder.apiUrl, env.get("E2B_API_URL"));
    this.apiUrl =
        stripSlash(
            resolvedApiUrl != null
                ? resolvedApiUrl
                : debug ? "http://localhost:3000" : "https://api." + domain);
    String resolvedSandboxUrl = firstNonEmpty(builder.sandboxUrl, env.get("E2B_SANDBOX_URL"));
    this.sandboxUrl = resolvedSandboxUrl == null ? null : stripSlash(resolvedSandboxUrl);
    this.requestTimeout = builder.requestTimeout;
    this.apiHeaders = Map.copyOf(builder.apiHeaders);
    this.retries = builder.retries;
    checkUrl("apiUrl", apiUrl);
    if (sandboxUrl != null) {
      checkUrl("sandboxUrl", sandboxUrl);
    }
  }

  /** A configuration from the environment alone. */
  public static ConnectionConfig fromEnvironment() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The API key, sent as {@code X-API-KEY} to the API only; {@code null} if none is set. */
  public @Nullable String apiKey() {
    return apiKey;
  }

  public String domain() {
    return domain;
  }

  /** The API's base URL, without a trailing slash. */
  public String apiUrl() {
    return apiUrl;
  }

  /** The one envd URL used for every sandbox, or {@code null}. */
  public @Nullable String sandboxUrl() {
    return sandboxUrl;
  }

  public boolean debug() {
    return debug;
  }

  /** The time limit of each HTTP request (also the handshake of streams); zero means none. */
  public Duration requestTimeout() {
    return requestTimeout;
  }

  /** Extra headers sent to the API (never to envd). */
  public Map<String, String> apiHeaders() {
    return apiHeaders;
  }

  /** How often an API request answered 429 with {@code Retry-After} is retried; 3 by default. */
  public int retries() {
    return retries;
  }

  /**
   * The base URL of a sandbox's envd: {@code sandboxUrl} if set; else {@code
   * http://localhost:49983} in debug mode; else {@code https://sandbox.<domain>} for E2B's own
   * domains; else {@code https://49983-<sandboxId>.<domain>}.
   *
   * @param sandboxDomain the domain the API returned for the sandbox, or {@code null} for {@link
   *     #domain()}
   */
  public String envdUrl(String sandboxId, @Nullable String sandboxDomain) {
    requireNonNull(sandboxId, "sandboxId");
    if (sandboxUrl != null) {
      return sandboxUrl;
    }
    if (debug) {
      return "http://localhost:" + ENVD_PORT;
    }
    String effective = sandboxDomain == null ? domain : sandboxDomain;
    if (SHARED_HOST_DOMAINS.contains(effective)) {
      return "https://sandbox." + effective;
    }
    return "https://" + ENVD_PORT + "-" + sandboxId + "." + effective;
  }

  /**
   * The base URL of upload and download URLs: like {@link #envdUrl} but always the per-sandbox host
   * {@code https://49983-<sandboxId>.<domain>} outside debug mode, since a plain client that
   * fetches the URL sends no sandbox header.
   */
  public String fileUrlBase(String sandboxId, @Nullable String sandboxDomain) {
    requireNonNull(sandboxId, "sandboxId");
    if (sandboxUrl != null) {
      return sandboxUrl;
    }
    if (debug) {
      return "http://localhost:" + ENVD_PORT;
    }
    return "https://"
        + ENVD_PORT
        + "-"
        + sandboxId
        + "."
        + (sandboxDomain == null ? domain : sandboxDomain);
  }

  /**
   * The host at which a port of the sandbox is reached: {@code localhost:<port>} in debug mode,
   * otherwise {@code <port>-<sandboxId>.<domain>}. It ignores {@code sandboxUrl}, as E2B's SDKs do.
   */
  public String host(String sandboxId, @Nullable String sandboxDomain, int port) {
    requireNonNull(sandboxId, "sandboxId");
    if (port < 1 || port > 65535) {
      throw new InvalidArgumentException("port must be 1..65535, not " + port);
    }
    if (debug) {
      return "localhost:" + port;
    }
    return port + "-" + sandboxId + "." + (sandboxDomain == null ? domain : sandboxDomain);
  }

  private static @Nullable String firstNonEmpty(@Nullable String explicit, @Nullable String env) {
    if (explicit != null) {
      return explicit;
    }
    return env == null || env.isEmpty() ? null : env;
  }

  private static String stripSlash(String url) {
    String stripped = url.strip();
    while (stripped.endsWith("/")) {
      stripped = stripped.substring(0, stripped.length() - 1);
    }
    return stripped;
  }

  private static void checkUrl(String what, String url) {
    URI uri;
    try {
      uri = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw new InvalidArgumentException(what + " is not a URL: " + url, e);
    }
    String scheme = uri.getScheme();
    if (scheme == null
        || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))
        || uri.getHost() == null) {
      throw new InvalidArgumentException(what + " must be an http(s) URL with a host: " + url);
    }
  }

  @Override
  public String toString() {
    return "ConnectionConfig[apiUrl="
        + apiUrl
        + ", sandboxUrl="
        + sandboxUrl
        + ", domain="
        + domain
        + ", debug="
        + debug
        + ", apiKey="
        + (apiKey == null ? "none" : "set")
        + "]";
  }

  /** Builds a {@link ConnectionConfig}; unset values come from the environment. */
  public static final class Builder {
    private Map<String, String> environment = System.getenv();
    private @Nullable String apiKey;
    private @Nullable String domain;
    private @Nullable String apiUrl;
    private @Nullable String sandboxUrl;
    private @Nullable Boolean debug;
    private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
    private final Map<String, String> apiHeaders = new LinkedHashMap<>();
    private int retries = 3;

    private Builder() {}

    /** The environment variables to read; {@link System#getenv()} by default. */
    public Builder environment(Map<String, String> environment) {
      this.environment = Map.copyOf(requireNonNull(environment, "environment"));
      return this;
    }

    public Builder apiKey(String apiKey) {
      this.apiKey = requireNonNull(apiKey, "apiKey");
      return this;
    }

    public Builder domain(String domain) {
      this.domain = requireNonNull(domain, "domain");
      return this;
    }

    public Builder apiUrl(String apiUrl) {
      this.apiUrl = requireNonNull(apiUrl, "apiUrl");
      return this;
    }

    public Builder sandboxUrl(String sandboxUrl) {
      this.sandboxUrl = requireNonNull(sandboxUrl, "sandboxUrl");
      return this;
    }

    public Builder debug(boolean debug) {
      this.debug = debug;
      return this;
    }

    /** The time limit of each HTTP request; {@link Duration#ZERO} for none. */
    public Builder requestTimeout(Duration requestTimeout) {
      requireNonNull(requestTimeout, "requestTimeout");
      if (requestTimeout.isNegative()) {
        throw new InvalidArgumentException("requestTimeout must not be negative");
      }
      this.requestTimeout = requestTimeout;
      return this;
    }

    /** A header sent with every API request (e.g. {@code Authorization}); not sent to envd. */
    public Builder apiHeader(String name, String value) {
      apiHeaders.put(requireNonNull(name, "name"), requireNonNull(value, "value"));
      return this;
    }

    /** How often a 429 with {@code Retry-After} is retried; 3 by default, 0 for never. */
    public Builder retries(int retries) {
      if (retries < 0) {
        throw new InvalidArgumentException("retries must not be negative");
      }
      this.retries = retries;
      return this;
    }

    public ConnectionConfig build() {
      return new ConnectionConfig(this);
    }
  }
}
