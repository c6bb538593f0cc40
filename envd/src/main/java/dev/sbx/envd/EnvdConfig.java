package dev.sbx.envd;

import java.net.InetSocketAddress;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * envd's start-up settings, from its environment: {@code ENVD_PORT} (49983), {@code ENVD_HOST}
 * ({@code 0.0.0.0}), {@code ENVD_ROOT} (the rootfs whose {@code /etc/passwd} names the users;
 * {@code /}), the sandbox identity {@code E2B_SANDBOX_ID} / {@code E2B_TEMPLATE_ID}, which become
 * part of every process's environment; the helper every process is started through: {@code
 * ENVD_EXEC} ({@code envd-exec}: OOM score, the user's ids, exec; default {@link #defaultExec()});
 * {@code ENVD_SET_CLOCK} ({@code true} lets {@code /init} set the guest clock; off by default so
 * that envd on a host never changes its clock); and {@code ENVD_PIDFD} ({@code off} finds process
 * exits by polling {@code waitpid} instead of a pidfd; without {@code pidfd_open}, as under gVisor,
 * envd does so by itself).
 */
public record EnvdConfig(
    InetSocketAddress address,
    Path root,
    Map<String, String> baseEnv,
    Path exec,
    boolean setClock,
    boolean pidfd) {
  public static final int DEFAULT_PORT = 49983;
  private static final Path DIST_EXEC = Path.of("/opt/sbx/bin/envd-exec");

  /** The envd version reported to clients; the E2B SDKs gate features on it. */
  public static final String VERSION = "0.6.4";

  public EnvdConfig {
    baseEnv = Map.copyOf(baseEnv);
  }

  /** A configuration with the {@link #defaultExec()} helper that never sets the clock. */
  public EnvdConfig(InetSocketAddress address, Path root, Map<String, String> baseEnv) {
    this(address, root, baseEnv, defaultExec(), false, true);
  }

  /**
   * Where {@code envd-exec} is when {@code ENVD_EXEC} does not say: beside envd's code, in the dist
   * ({@code <dist>/lib/envd.jar} → {@code <dist>/bin/envd-exec}) or in the build ({@code
   * envd/target/classes} or the jar in {@code envd/target} → {@code envd/target/native/envd-exec},
   * compiled in {@code generate-resources}); else {@code /opt/sbx/bin/envd-exec}.
   */
  public static Path defaultExec() {
    try {
      var source = EnvdConfig.class.getProtectionDomain().getCodeSource();
      if (source != null) {
        Path base = Path.of(source.getLocation().toURI()).toAbsolutePath().getParent();
        if (base != null) {
          for (Path candidate :
              new Path[] {base.resolve("native/envd-exec"), base.resolveSibling("bin/envd-exec")}) {
            if (Files.isExecutable(candidate)) {
              return candidate.normalize();
            }
          }
        }
      }
    } catch (URISyntaxException | RuntimeException e) {
      // fall through to the dist's fixed place
    }
    return DIST_EXEC;
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
        env.containsKey("ENVD_EXEC") ? Path.of(env.get("ENVD_EXEC")) : defaultExec(),
        "true".equalsIgnoreCase(env.getOrDefault("ENVD_SET_CLOCK", "false")),
        !"off".equalsIgnoreCase(env.getOrDefault("ENVD_PIDFD", "on")));
  }
}
