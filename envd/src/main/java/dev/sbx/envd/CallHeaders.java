package dev.sbx.envd;

import static java.util.Objects.requireNonNull;

import dev.sbx.connect.CallContext;
import dev.sbx.connect.ConnectCode;
import dev.sbx.connect.ConnectException;
import dev.sbx.envd.user.RequestUsers;
import dev.sbx.envd.user.SandboxUser;
import dev.sbx.envd.user.UnknownUserException;
import java.time.Duration;

/**
 * What envd's Connect services read from a call's headers, the same way for both: the user it acts
 * as ({@code Authorization}), its deadline ({@code Connect-Timeout-Ms}) and how often a stream
 * sends a keepalive ({@code Keepalive-Ping-Interval}).
 */
public final class CallHeaders {
  /** The keepalive interval when the client asks for none, as in E2B's envd. */
  public static final Duration DEFAULT_KEEPALIVE = Duration.ofSeconds(90);

  private CallHeaders() {}

  /**
   * The user the call acts as.
   *
   * @throws ConnectException {@code unauthenticated} when the header names no user of this sandbox
   */
  public static SandboxUser user(RequestUsers users, CallContext context) {
    requireNonNull(users, "users");
    requireNonNull(context, "context");
    try {
      return users.fromAuthorization(context.header("Authorization"));
    } catch (UnknownUserException e) {
      throw new ConnectException(
          ConnectCode.UNAUTHENTICATED, "invalid username: '" + e.username() + "'");
    }
  }

  /** The {@link System#nanoTime()} of the call's deadline; {@code Long.MAX_VALUE} for none. */
  public static long deadline(CallContext context) {
    Duration timeout = requireNonNull(context, "context").timeout();
    return timeout == null || timeout.isZero() || timeout.isNegative()
        ? Long.MAX_VALUE
        : System.nanoTime() + timeout.toNanos();
  }

  /**
   * {@code Keepalive-Ping-Interval} (seconds), or {@link #DEFAULT_KEEPALIVE} when absent or not a
   * positive number.
   */
  public static Duration keepaliveInterval(CallContext context) {
    String header = requireNonNull(context, "context").header("Keepalive-Ping-Interval");
    if (header != null) {
      try {
        long seconds = Long.parseLong(header.strip());
        if (seconds > 0) {
          return Duration.ofSeconds(seconds);
        }
      } catch (NumberFormatException e) {
        // An unreadable interval means the default, as in E2B's envd.
      }
    }
    return DEFAULT_KEEPALIVE;
  }
}
