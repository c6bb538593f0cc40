package dev.sbx.orchestrator.runtime;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CRIU, which {@code runc checkpoint} and {@code restore} run. This kernel needs 4.2 or newer (3.17
 * fails on the vDSO layout, 4.1 hangs without hardware breakpoints); {@code
 * scripts/install-deps.sh} puts Debian sid's 4.2.1 with its own loader and libraries in {@code
 * /opt/sbx-criu}, run through the wrapper {@code /opt/sbx-criu/criu}. The system property {@code
 * sbx.criu} names another binary.
 *
 * <p>Every call gets the configuration file {@link #CONFIG}: {@code network-lock nftables} (CRIU's
 * default locks with iptables, which a host with only nftables lacks) and {@code tcp-close}
 * (established TCP connections, e.g. the orchestrator's keep-alive connections to envd, are closed
 * on restore, not restored: the sandbox comes back on another address), and {@code timeout} ({@link
 * #SEIZE_TIMEOUT}).
 */
public final class Criu {
  /** The wrapper {@code scripts/install-deps.sh} installs. */
  public static final Path DEFAULT = Path.of("/opt/sbx-criu/criu");

  /** The oldest version that works on this kind of host. */
  static final int[] MIN_VERSION = {4, 2};

  /**
   * How long a dump waits to seize the container's processes ({@code timeout}; CRIU's default is 10
   * s). Seizing takes milliseconds; a process it cannot seize does not become seizable by waiting
   * (see {@code RuncRuntime#checkpoint}), so a failed dump is retried sooner.
   */
  static final Duration SEIZE_TIMEOUT = Duration.ofSeconds(4);

  /** CRIU's options for runc's checkpoints and restores. */
  static final String CONFIG =
      "network-lock nftables\ntcp-close\ntimeout " + SEIZE_TIMEOUT.toSeconds() + "\n";

  private static final Pattern VERSION = Pattern.compile("Version: *(\\d+)\\.(\\d+)");

  private Criu() {}

  /** The configured CRIU if it runs and is new enough, else empty (the reason is logged). */
  public static Optional<Path> detect() {
    Path criu = Path.of(System.getProperty("sbx.criu", DEFAULT.toString()));
    if (!Files.isExecutable(criu)) {
      System.getLogger(Criu.class.getName())
          .log(
              System.Logger.Level.INFO,
              "no CRIU at {0}: runc sandboxes pause with their files only",
              criu);
      return Optional.empty();
    }
    HostCommand.Result result =
        HostCommand.run(List.of(criu.toString(), "--version"), Duration.ofSeconds(10), Map.of());
    Matcher matcher = VERSION.matcher(result.stdout());
    if (!result.succeeded() || !matcher.find()) {
      System.getLogger(Criu.class.getName())
          .log(System.Logger.Level.WARNING, "{0} --version failed: {1}", criu, result.error());
      return Optional.empty();
    }
    int major = Integer.parseInt(matcher.group(1));
    int minor = Integer.parseInt(matcher.group(2));
    if (major < MIN_VERSION[0] || (major == MIN_VERSION[0] && minor < MIN_VERSION[1])) {
      System.getLogger(Criu.class.getName())
          .log(
              System.Logger.Level.WARNING,
              "{0} is CRIU {1}.{2}, 4.2 or newer needed: runc sandboxes pause with their files only",
              criu,
              major,
              minor);
      return Optional.empty();
    }
    return Optional.of(criu);
  }
}
