package dev.sbx.envd.http;

import dev.sbx.envd.linux.ErrnoException;
import dev.sbx.envd.linux.Syscalls;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;

/**
 * Sets the guest's wall clock from the control plane's {@code /init} timestamp, as E2B's envd does
 * after a resume: only when the clock is more than 50 ms behind or 5 s ahead of it. Setting the
 * clock needs {@code CAP_SYS_TIME}; a refusal is logged, never an error of {@code /init}. It is off
 * unless envd is started with {@code ENVD_SET_CLOCK=true} (the sandbox image sets it), so envd
 * running on a developer's machine or in tests never touches the host clock.
 */
public final class SystemClock {
  private static final Logger LOG = System.getLogger(SystemClock.class.getName());

  static final Duration MAX_BEHIND = Duration.ofMillis(50);
  static final Duration MAX_AHEAD = Duration.ofSeconds(5);

  private final boolean enabled;
  private final Supplier<Instant> now;

  public SystemClock(boolean enabled) {
    this(enabled, Instant::now);
  }

  SystemClock(boolean enabled, Supplier<Instant> now) {
    this.enabled = enabled;
    this.now = now;
  }

  /**
   * Sets the clock to {@code hostTime} if it is off by more than the thresholds.
   *
   * @return whether the clock was set
   */
  public boolean syncTo(Instant hostTime) {
    Instant guestTime = now.get();
    if (!isOff(guestTime, hostTime)) {
      return false;
    }
    if (!enabled) {
      LOG.log(
          Level.DEBUG,
          "clock is {0} off the host but ENVD_SET_CLOCK is not true; leaving it",
          Duration.between(hostTime, guestTime));
      return false;
    }
    try {
      Syscalls.clockSettime(Syscalls.CLOCK_REALTIME, hostTime);
    } catch (ErrnoException e) {
      LOG.log(Level.WARNING, "could not set the clock to {0}: errno {1}", hostTime, e.errno());
      return false;
    } catch (RuntimeException | LinkageError e) {
      LOG.log(Level.WARNING, "could not set the clock to {0}: {1}", hostTime, e.toString());
      return false;
    }
    LOG.log(Level.INFO, "clock set to {0} (was {1})", hostTime, guestTime);
    return true;
  }

  /** Whether {@code guestTime} is more than 50 ms behind or 5 s ahead of {@code hostTime}. */
  static boolean isOff(Instant guestTime, Instant hostTime) {
    return guestTime.isBefore(hostTime.minus(MAX_BEHIND))
        || guestTime.isAfter(hostTime.plus(MAX_AHEAD));
  }
}
