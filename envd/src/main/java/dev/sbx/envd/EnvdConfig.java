package dev.sbx.envd;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * envd's start-up settings, from its environment: {@code ENVD_PORT} (49983), {@code ENVD_HOST}
 * ({@code 0.0.0.0}), {@code ENVD_ROOT} (the rootfs whose {@code /etc/passwd} names the users;
 * {@code /}), the sandbox identity {@code E2B_SANDBOX_ID} / {@code E2B_TEMPLATE_ID}, which become
 * part of every process's environment, and {@code ENVD_SET_CLOCK} ({@code true} lets {@code /init}
 * set the guest clock; off by default so that envd on a host never changes its clock).
 */
public record EnvdConfig(
    InetSocketAddress address, Path root, Map<String, String> baseEnv, boolean setClock) {
  public static final int DEFAULT_PORT = 49983;

  /** The envd version reported to clients; the E2B SDKs gate features on it. */
  public static final String VERSION = "0.6.4";

  public EnvdConfig {
    baseEnv = Map.copyOf(baseEnv);
  }

  /** A configuration that never sets the clock. */
  public EnvdConfig(InetSocketAddress address, Path root, Map<String, String> baseEnv) {
    this(address, root, baseEnv, false);
  }

  public static EnvdConfig fromEnvironment(Map<String, String> env) {
    int port = Integer.parseInt(env.getOrDefault("ENVD_PORT", Integer.toString(DEFAULT_PORT)));
    String host = env.getOrDefault("ENVD_HOST", "0.0.0.0");
    Map<String, String> base = new LinkedHashMap<>();
    base.put("E2B_SANDBOX", "true");
    for (String key : new String[] {"E2B_SANDBOX_ID", "E2B_TEMPLATE_ID"}) {
      String value = env.get(key);
      if (value != null && !value.isEmpty()) {
        base.put(key, value);
      }
    }
    return new EnvdConfig(
        new InetSocketAddress(host, port),
        Path.of(env.getOrDefault("ENVD_ROOT", "/")),
        base,
        "true".equalsIgnoreCase(env.getOrDefault("ENVD_SET_CLOCK", "false")));
  }
}
