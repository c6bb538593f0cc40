package dev.sbx.sdk;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What {@link Sandbox#create(SandboxOptions)} asks for. As in E2B's JS SDK 2.51, only the values
 * that were set are sent; the server applies its defaults to the rest.
 *
 * @param template template ID or name ({@code base} by default)
 * @param timeout how long the sandbox lives before it is killed; {@code null} for the server's
 *     default. Sent in whole seconds, rounded up
 * @param metadata free-form metadata, usable as a {@link SandboxQuery} filter
 * @param envs environment variables of every process in the sandbox
 * @param secure whether envd requires an access token (and file URLs are signed)
 * @param allowInternetAccess whether the sandbox may reach the internet
 * @param connection where the API and envd are
 */
public record SandboxOptions(
    String template,
    @Nullable Duration timeout,
    Map<String, String> metadata,
    Map<String, String> envs,
    @Nullable Boolean secure,
    @Nullable Boolean allowInternetAccess,
    ConnectionConfig connection) {
  /** The template used when none is given. */
  public static final String DEFAULT_TEMPLATE = "base";

  public SandboxOptions {
    requireNonNull(template, "template");
    if (template.isBlank()) {
      throw new InvalidArgumentException("template must not be blank");
    }
    if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
      throw new InvalidArgumentException("timeout must be positive, not " + timeout);
    }
    metadata = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    envs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(envs));
    requireNonNull(connection, "connection");
  }

  /** The defaults: template {@code base}, connection from the environment. */
  public static SandboxOptions defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Builds {@link SandboxOptions}; the connection settings are those of {@link ConnectionConfig}.
   */
  public static final class Builder {
    private String template = DEFAULT_TEMPLATE;
    private @Nullable Duration timeout;
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final Map<String, String> envs = new LinkedHashMap<>();
    private @Nullable Boolean secure;
    private @Nullable Boolean allowInternetAccess;
    private final ConnectionConfig.Builder connection = ConnectionConfig.builder();
    private @Nullable ConnectionConfig config;

    private Builder() {}

    public Builder template(String template) {
      this.template = requireNonNull(template, "template");
      return this;
    }

    public Builder timeout(Duration timeout) {
      this.timeout = requireNonNull(timeout, "timeout");
      return this;
    }

    public Builder metadata(String key, String value) {
      metadata.put(requireNonNull(key, "key"), requireNonNull(value, "value"));
      return this;
    }

    public Builder metadata(Map<String, String> metadata) {
      metadata.forEach(this::metadata);
      return this;
    }

    public Builder env(String name, String value) {
      envs.put(requireNonNull(name, "name"), requireNonNull(value, "value"));
      return this;
    }

    public Builder envs(Map<String, String> envs) {
      envs.forEach(this::env);
      return this;
    }

    public Builder secure(boolean secure) {
      this.secure = secure;
      return this;
    }

    public Builder allowInternetAccess(boolean allowInternetAccess) {
      this.allowInternetAccess = allowInternetAccess;
      return this;
    }

    /** A complete connection configuration; the connection setters below are then ignored. */
    public Builder connection(ConnectionConfig config) {
      this.config = requireNonNull(config, "config");
      return this;
    }

    public Builder apiKey(String apiKey) {
      connection.apiKey(apiKey);
      return this;
    }

    public Builder domain(String domain) {
      connection.domain(domain);
      return this;
    }

    public Builder apiUrl(String apiUrl) {
      connection.apiUrl(apiUrl);
      return this;
    }

    public Builder sandboxUrl(String sandboxUrl) {
      connection.sandboxUrl(sandboxUrl);
      return this;
    }

    public Builder debug(boolean debug) {
      connection.debug(debug);
      return this;
    }

    public Builder requestTimeout(Duration requestTimeout) {
      connection.requestTimeout(requestTimeout);
      return this;
    }

    /** The environment variables the connection settings are read from. */
    public Builder environment(Map<String, String> environment) {
      connection.environment(environment);
      return this;
    }

    public SandboxOptions build() {
      return new SandboxOptions(
          template,
          timeout,
          metadata,
          envs,
          secure,
          allowInternetAccess,
          config != null ? config : connection.build());
    }
  }
}
