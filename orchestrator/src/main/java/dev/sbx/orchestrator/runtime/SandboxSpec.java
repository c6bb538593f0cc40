package dev.sbx.orchestrator.runtime;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Everything a runtime needs to create one sandbox.
 *
 * @param sandboxId the sandbox id, also its hostname: letters, digits and '-', at most 63, starting
 *     with a letter or digit
 * @param templateRootfs the template's rootfs directory, the read-only lower layer of the overlay
 * @param envdDist envd's directory ({@code envd/target/envd-dist}), bind-mounted read-only at
 *     {@code /opt/sbx}
 * @param limits CPU, memory and pids limits
 * @param env environment of envd (and so the defaults of its processes), after the runtime's own
 *     ({@code PATH}, {@code HOME}, {@code ENVD_SET_CLOCK=true}), which it may override
 * @param networkNamespace the path of a prepared network namespace (e.g. {@code /run/netns/x}) to
 *     join, or null for a new one holding only a loopback interface that is down
 * @param address the sandbox's address for {@code /etc/hosts}, or null for {@code 127.0.1.1}
 * @param nameservers the name servers (addresses) of {@code /etc/resolv.conf}, in order
 * @param background started ahead of need (a warm sandbox): the least CPU weight, so that its start
 *     yields to busy sandboxes, until {@link SandboxRuntime#foreground} gives it the normal one;
 *     the quota is {@code limits}' either way
 */
public record SandboxSpec(
    String sandboxId,
    Path templateRootfs,
    Path envdDist,
    ResourceLimits limits,
    SequencedMap<String, String> env,
    @Nullable Path networkNamespace,
    @Nullable String address,
    List<String> nameservers,
    boolean background) {

  private static final Pattern SANDBOX_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9-]{0,62}");
  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Pattern ADDRESS = Pattern.compile("[0-9A-Fa-f.:]+");

  public SandboxSpec {
    requireNonNull(sandboxId, "sandboxId");
    if (!SANDBOX_ID.matcher(sandboxId).matches()) {
      throw new IllegalArgumentException("not a valid sandbox id (hostname): " + sandboxId);
    }
    templateRootfs = requireNonNull(templateRootfs, "templateRootfs").toAbsolutePath().normalize();
    envdDist = requireNonNull(envdDist, "envdDist").toAbsolutePath().normalize();
    requireNonNull(limits, "limits");
    requireNonNull(env, "env");
    for (Map.Entry<String, String> e : env.entrySet()) {
      if (!ENV_NAME.matcher(e.getKey()).matches()) {
        throw new IllegalArgumentException("not a valid environment variable name: " + e.getKey());
      }
      if (e.getValue().indexOf('\0') >= 0) {
        throw new IllegalArgumentException("environment variable " + e.getKey() + " holds NUL");
      }
    }
    env = java.util.Collections.unmodifiableSequencedMap(new LinkedHashMap<>(env));
    if (networkNamespace != null) {
      networkNamespace = networkNamespace.toAbsolutePath().normalize();
    }
    if (address != null && !ADDRESS.matcher(address).matches()) {
      throw new IllegalArgumentException("not an IP address: " + address);
    }
    nameservers = List.copyOf(requireNonNull(nameservers, "nameservers"));
    for (String server : nameservers) {
      if (!ADDRESS.matcher(server).matches()) {
        throw new IllegalArgumentException("not an IP address: " + server);
      }
    }
  }

  /** A sandbox with default limits, no extra environment, a new network namespace, no DNS. */
  public static SandboxSpec of(String sandboxId, Path templateRootfs, Path envdDist) {
    return new SandboxSpec(
        sandboxId,
        templateRootfs,
        envdDist,
        ResourceLimits.DEFAULT,
        new LinkedHashMap<>(),
        null,
        null,
        List.of(),
        false);
  }

  public SandboxSpec withLimits(ResourceLimits limits) {
    return new SandboxSpec(
        sandboxId,
        templateRootfs,
        envdDist,
        limits,
        env,
        networkNamespace,
        address,
        nameservers,
        background);
  }

  public SandboxSpec withNetworkNamespace(@Nullable Path networkNamespace) {
    return new SandboxSpec(
        sandboxId,
        templateRootfs,
        envdDist,
        limits,
        env,
        networkNamespace,
        address,
        nameservers,
        background);
  }

  public SandboxSpec withEnv(SequencedMap<String, String> env) {
    return new SandboxSpec(
        sandboxId,
        templateRootfs,
        envdDist,
        limits,
        env,
        networkNamespace,
        address,
        nameservers,
        background);
  }

  /** This spec, started in the background (see {@code background}). */
  public SandboxSpec inBackground() {
    return new SandboxSpec(
        sandboxId,
        templateRootfs,
        envdDist,
        limits,
        env,
        networkNamespace,
        address,
        nameservers,
        true);
  }

  /** The sandbox's {@code /etc/hosts}: localhost and its own name. */
  public String hostsFile() {
    return "127.0.0.1\tlocalhost\n"
        + "::1\tlocalhost ip6-localhost ip6-loopback\n"
        + (address != null ? address : "127.0.1.1")
        + "\t"
        + sandboxId
        + "\n";
  }

  /** The sandbox's {@code /etc/resolv.conf}. */
  public String resolvConf() {
    StringBuilder out = new StringBuilder("# written by sbx\n");
    for (String nameserver : nameservers) {
      out.append("nameserver ").append(nameserver).append('\n');
    }
    return out.toString();
  }
}
