package dev.sbx.envd;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * envd's start-up settings, from its environment: {@code ENVD_PORT} (49983), {@code ENVD_HOST}
 * ({@code 0.0.0.0}), {@code ENVD_ROOT} (the rootfs whose {@code /etc/passwd} names the users;
 * {@code /}), the sandbox identity {@code E2B_SANDBOX_ID} / {@code E2B_TEMPLATE_ID}, which become
 * part of every process's environment; the helper binaries processes are started with: {@code
 * ENVD_BUSYBOX} ({@code /bin/busybox}, its {@code sh} wraps every command) and {@code ENVD_SETPRIV}
 * (util-linux {@code setpriv}, {@code /usr/bin/setpriv}; switches to the user); and {@code
 * ENVD_SET_CLOCK} ({@code true} lets {@code /init} set the guest clock; off by default so that envd
 * on a host never changes its clock).
 */
public record EnvdConfig(
    InetSocketAddress address,
    Path root,
    Map<String, String> baseEnv,
    Path busybox,
    Path setpriv,
    boolean setClock) {
  public static final int DEFAULT_PORT = 49983;
  private static final Path DEFAULT_BUSYBOX = Path.of("/bin/busybox");
  private static final Path DEFAULT_SETPRIV = Path.of("/usr/bin/setpriv");

  /** The envd version reported to clients; the E2B SDKs gate features on it. */
  public static final String VERSION = "0.6.4";

  public EnvdConfig {
    baseEnv = Map.copyOf(baseEnv);
  }

  /** A configuration with the Debian paths of busybox and setpriv that never sets the clock. */
  public EnvdConfig(InetSocketAddress address, Path root, Map<String, String> baseEnv) {
    this(address, root, baseEnv, DEFAULT_BUSYBOX, DEFAULT_SETPRIV, false);
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
        Path.of(env.getOrDefault("ENVD_BUSYBOX", DEFAULT_BUSYBOX.toString())),
        Path.of(env.getOrDefault("ENVD_SETPRIV", DEFAULT_SETPRIV.toString())),
        "true".equalsIgnoreCase(env.getOrDefault("ENVD_SET_CLOCK", "false")));
  }
}
