package dev.sbx.orchestrator.lifecycle;

import static java.util.Objects.requireNonNull;

import dev.sbx.orchestrator.network.EgressPolicy;
import dev.sbx.orchestrator.runtime.ResourceLimits;
import dev.sbx.orchestrator.template.TemplateSettings;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * What to create.
 *
 * @param sandboxId letters, digits and '-', at most 63, starting with a letter or digit (it is also
 *     the hostname)
 * @param templateId the template whose rootfs the sandbox starts from
 * @param limits CPU, memory and pids limits
 * @param envVars environment variables envd gives every process ({@code /init} {@code envVars})
 * @param metadata kept with the sandbox and returned, not interpreted
 * @param accessToken envd's access token, or null for none
 * @param defaultUser envd's default user, or null for envd's default
 * @param defaultWorkdir envd's default working directory, or null for envd's default
 * @param endTime when the node deletes the sandbox, or null for never
 * @param egress where the sandbox may send packets
 */
public record SandboxRequest(
    String sandboxId,
    String templateId,
    ResourceLimits limits,
    SequencedMap<String, String> envVars,
    Map<String, String> metadata,
    @Nullable String accessToken,
    @Nullable String defaultUser,
    @Nullable String defaultWorkdir,
    @Nullable Instant endTime,
    EgressPolicy egress) {

  private static final Pattern SANDBOX_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9-]{0,62}");
  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  public SandboxRequest {
    requireNonNull(sandboxId, "sandboxId");
    requireNonNull(templateId, "templateId");
    requireNonNull(limits, "limits");
    requireNonNull(envVars, "envVars");
    requireNonNull(metadata, "metadata");
    requireNonNull(egress, "egress");
    if (!SANDBOX_ID.matcher(sandboxId).matches()) {
      throw new IllegalArgumentException("not a valid sandbox id: " + sandboxId);
    }
    for (Map.Entry<String, String> e : envVars.entrySet()) {
      if (!ENV_NAME.matcher(e.getKey()).matches()) {
        throw new IllegalArgumentException("not a valid environment variable name: " + e.getKey());
      }
      if (e.getValue().indexOf('\0') >= 0) {
        throw new IllegalArgumentException("environment variable " + e.getKey() + " holds NUL");
      }
    }
    envVars = Collections.unmodifiableSequencedMap(new LinkedHashMap<>(envVars));
    metadata = Map.copyOf(metadata);
  }

  /** A sandbox of {@code templateId} with default limits, no egress, nothing else set. */
  public static SandboxRequest of(String sandboxId, String templateId) {
    return new SandboxRequest(
        sandboxId,
        templateId,
        ResourceLimits.DEFAULT,
        new LinkedHashMap<>(),
        Map.of(),
        null,
        null,
        null,
        null,
        EgressPolicy.NONE);
  }

  public SandboxRequest withEndTime(@Nullable Instant endTime) {
    return new SandboxRequest(
        sandboxId,
        templateId,
        limits,
        envVars,
        metadata,
        accessToken,
        defaultUser,
        defaultWorkdir,
        endTime,
        egress);
  }

  /**
   * This request with a template's defaults where it has none: the default user and workdir, and
   * the template's environment variables below the request's own (the request's win). Limits are
   * the caller's to choose ({@link TemplateSettings#limits()}).
   */
  public SandboxRequest withDefaultsOf(TemplateSettings template) {
    SequencedMap<String, String> env = new LinkedHashMap<>(template.envVars());
    env.putAll(envVars);
    return new SandboxRequest(
        sandboxId,
        templateId,
        limits,
        env,
        metadata,
        accessToken,
        defaultUser != null ? defaultUser : template.defaultUser(),
        defaultWorkdir != null ? defaultWorkdir : template.defaultWorkdir(),
        endTime,
        egress);
  }
}
