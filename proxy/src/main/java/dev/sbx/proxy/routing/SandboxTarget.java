package dev.sbx.proxy.routing;

import static java.util.Objects.requireNonNull;

import java.util.Locale;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The sandbox and port a request is for, as the E2B wire protocol §3.1 maps it: headers {@code
 * E2b-Sandbox-Id} and {@code E2b-Sandbox-Port} on localhost, IP-literal and {@code
 * sandbox.<domain>} hosts, otherwise the first DNS label of the host, {@code
 * <port>-<sandboxId>[-<clientId>]}.
 *
 * @param sandboxId matches {@code ^[a-z0-9]+$}
 * @param port 1 to 65535
 */
public record SandboxTarget(String sandboxId, int port) {

  /** Request header naming the sandbox on shared hosts. */
  public static final String SANDBOX_ID_HEADER = "E2b-Sandbox-Id";

  /** Request header naming the port on shared hosts. */
  public static final String SANDBOX_PORT_HEADER = "E2b-Sandbox-Port";

  private static final Pattern SANDBOX_ID = Pattern.compile("[a-z0-9]+");
  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
  private static final Pattern IPV6 = Pattern.compile("\\[?[0-9a-fA-F:.]*:[0-9a-fA-F:.%a-zA-Z]*]?");

  /** Checks the id and port. */
  public SandboxTarget {
    requireNonNull(sandboxId, "sandboxId");
    if (!SANDBOX_ID.matcher(sandboxId).matches()) {
      throw new IllegalArgumentException("invalid sandbox id: " + sandboxId);
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("invalid port: " + port);
    }
  }

  /**
   * Maps a request to its target.
   *
   * @param host the request's host without its port ({@code null} when the request had none)
   * @param idHeader the {@code E2b-Sandbox-Id} header or {@code null}
   * @param portHeader the {@code E2b-Sandbox-Port} header or {@code null}
   * @throws InvalidTargetException with the protocol's 400 message ({@code missing header}, {@code
   *     Invalid sandbox port}, {@code Invalid host}, {@code Invalid sandbox ID})
   */
  public static SandboxTarget of(
      @Nullable String host, @Nullable String idHeader, @Nullable String portHeader)
      throws InvalidTargetException {
    String hostName = host == null ? "" : host.toLowerCase(Locale.ROOT);
    if (isSharedHost(hostName) && (idHeader != null || portHeader != null)) {
      if (idHeader == null || portHeader == null) {
        throw new InvalidTargetException("missing header");
      }
      return checked(idHeader, parsePort(portHeader));
    }
    int dot = hostName.indexOf('.');
    if (dot < 0) {
      throw new InvalidTargetException("Invalid host");
    }
    String[] parts = hostName.substring(0, dot).split("-", -1);
    if (parts.length < 2) {
      throw new InvalidTargetException("Invalid host");
    }
    return checked(parts[1], parsePort(parts[0]));
  }

  private static boolean isSharedHost(String host) {
    return host.equals("localhost")
        || host.startsWith("sandbox.")
        || IPV4.matcher(host).matches()
        || IPV6.matcher(host).matches();
  }

  private static int parsePort(String text) throws InvalidTargetException {
    if (text.isEmpty() || text.length() > 5 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw new InvalidTargetException("Invalid sandbox port");
    }
    int port = Integer.parseInt(text);
    if (port < 1 || port > 65535) {
      throw new InvalidTargetException("Invalid sandbox port");
    }
    return port;
  }

  private static SandboxTarget checked(String sandboxId, int port) throws InvalidTargetException {
    if (!SANDBOX_ID.matcher(sandboxId).matches()) {
      throw new InvalidTargetException("Invalid sandbox ID");
    }
    return new SandboxTarget(sandboxId, port);
  }
}
