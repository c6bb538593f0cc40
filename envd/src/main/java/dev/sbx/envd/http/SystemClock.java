package dev.sbx.envd.http;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
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
  static final int CLOCK_REALTIME = 0;
  static final int CLOCK_MONOTONIC = 1;

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
    int errno;
    try {
      errno = NativeClock.setTime(CLOCK_REALTIME, hostTime);
    } catch (RuntimeException | LinkageError e) {
      LOG.log(Level.WARNING, "could not set the clock to {0}: {1}", hostTime, e.toString());
      return false;
    }
    if (errno != 0) {
      LOG.log(Level.WARNING, "could not set the clock to {0}: errno {1}", hostTime, errno);
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

  /** {@code clock_settime(2)} through the FFM API; loaded only when first used. */
  static final class NativeClock {
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
        CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle CLOCK_SETTIME;

    static {
      Linker linker = Linker.nativeLinker();
      CLOCK_SETTIME =
          linker.downcallHandle(
              linker
                  .defaultLookup()
                  .find("clock_settime")
                  .orElseThrow(() -> new UnsatisfiedLinkError("clock_settime")),
              FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS),
              Linker.Option.captureCallState("errno"));
    }

    private NativeClock() {}

    /** Calls {@code clock_settime(clockId, time)}; returns 0 or the errno. */
    static int setTime(int clockId, Instant time) {
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment timespec = arena.allocate(16, 8);
        timespec.set(JAVA_LONG, 0, time.getEpochSecond());
        timespec.set(JAVA_LONG, 8, time.getNano());
        MemorySegment state = arena.allocate(CALL_STATE);
        int result = (int) CLOCK_SETTIME.invokeExact(state, clockId, timespec);
        return result == 0 ? 0 : (int) ERRNO.get(state, 0L);
      } catch (RuntimeException | Error e) {
        throw e;
      } catch (Throwable e) {
        throw new IllegalStateException("clock_settime failed", e);
      }
    }
  }
}
