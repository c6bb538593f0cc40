package dev.sbx.cli.sandbox;

import dev.sbx.sdk.ConnectionConfig;
import java.time.Duration;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/**
 * Where the API and the sandboxes are: flags first, then E2B's environment variables (read by the
 * SDK's {@link ConnectionConfig}), then the SDK's defaults.
 */
public final class ConnectionOptions {
  @Option(
      names = "--api-key",
      description = "API key (env E2B_API_KEY).",
      defaultValue = "${env:E2B_API_KEY}")
  @Nullable String apiKey;

  @Option(
      names = "--api-url",
      description =
          "API URL, e.g. http://127.0.0.1:3000 (env E2B_API_URL; default https://api.<domain>).",
      defaultValue = "${env:E2B_API_URL}")
  @Nullable String apiUrl;

  @Option(
      names = "--sandbox-url",
      description =
          "envd URL of every sandbox, e.g. the client proxy http://127.0.0.1:3002"
              + " (env E2B_SANDBOX_URL).",
      defaultValue = "${env:E2B_SANDBOX_URL}")
  @Nullable String sandboxUrl;

  @Option(
      names = "--domain",
      description = "Sandbox domain (env E2B_DOMAIN; default e2b.app).",
      defaultValue = "${env:E2B_DOMAIN}")
  @Nullable String domain;

  @Option(
      names = "--request-timeout",
      description = "Time limit of each API request, e.g. 30s (default 60s; 0 = none).",
      converter = DurationConverter.class)
  @Nullable Duration requestTimeout;

  /** The SDK's configuration: these flags over the process environment. */
  public ConnectionConfig config() {
    return config(System.getenv());
  }

  ConnectionConfig config(Map<String, String> environment) {
    ConnectionConfig.Builder builder = ConnectionConfig.builder().environment(environment);
    if (apiKey != null && !apiKey.isBlank()) {
      builder.apiKey(apiKey);
    }
    if (apiUrl != null && !apiUrl.isBlank()) {
      builder.apiUrl(apiUrl);
    }
    if (sandboxUrl != null && !sandboxUrl.isBlank()) {
      builder.sandboxUrl(sandboxUrl);
    }
    if (domain != null && !domain.isBlank()) {
      builder.domain(domain);
    }
    if (requestTimeout != null) {
      builder.requestTimeout(requestTimeout);
    }
    return builder.build();
  }
}
