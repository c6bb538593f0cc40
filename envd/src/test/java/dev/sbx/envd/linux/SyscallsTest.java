package dev.sbx.envd.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class SyscallsTest {
  private static final int EINVAL = 22;

  @Test
  void clockSettimeIsReachedThroughFfmAndReportsErrno() {
    // CLOCK_MONOTONIC cannot be set: the call fails with EINVAL and no clock changes.
    ErrnoException e =
        catchThrowableOfType(
            ErrnoException.class,
            () -> Syscalls.clockSettime(Syscalls.CLOCK_MONOTONIC, Instant.now()));
    assertThat(e.errno()).isEqualTo(EINVAL);
    assertThat(e.call()).isEqualTo("clock_settime");
    assertThat(e).hasMessage("clock_settime: Invalid argument");
  }
}
