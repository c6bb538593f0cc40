package dev.sbx.envd.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class SystemClockTest {
  private static final Instant HOST = Instant.parse("2025-01-01T00:00:00Z");

  @Test
  void theClockIsOffWhenMoreThan50MsBehindOr5SecondsAhead() {
    assertThat(SystemClock.isOff(HOST, HOST)).isFalse();
    assertThat(SystemClock.isOff(HOST.minusMillis(50), HOST)).isFalse();
    assertThat(SystemClock.isOff(HOST.minusMillis(51), HOST)).isTrue();
    assertThat(SystemClock.isOff(HOST.plusSeconds(5), HOST)).isFalse();
    assertThat(SystemClock.isOff(HOST.plusMillis(5001), HOST)).isTrue();
  }

  @Test
  void aDisabledClockIsNeverSet() {
    SystemClock clock = new SystemClock(false, () -> HOST.minusSeconds(3600));
    assertThat(clock.syncTo(HOST)).isFalse();
  }

  @Test
  void anAccurateClockIsNotSetEvenWhenEnabled() {
    SystemClock clock = new SystemClock(true, () -> HOST.plusMillis(10));
    assertThat(clock.syncTo(HOST)).isFalse();
  }
}
