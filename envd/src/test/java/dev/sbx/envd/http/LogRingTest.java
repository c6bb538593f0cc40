package dev.sbx.envd.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

class LogRingTest {
  @Test
  void keepsTheNewestRecordsOldestFirst() {
    LogRing ring = new LogRing(3);
    for (int i = 0; i < 5; i++) {
      ring.add(new LogRing.Entry(Instant.ofEpochSecond(i), "info", "t", "m" + i));
    }
    assertThat(ring.newest(10))
        .extracting(LogRing.Entry::message)
        .containsExactly("m2", "m3", "m4");
    assertThat(ring.newest(2)).extracting(LogRing.Entry::message).containsExactly("m3", "m4");
    assertThat(ring.newest(0)).isEmpty();
    assertThatThrownBy(() -> new LogRing(0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void formatsLevelsParametersThrowablesAndCutsLongMessages() {
    LogRing ring = new LogRing(10);
    LogRecord warning = new LogRecord(Level.WARNING, "process {0}: {1}");
    warning.setParameters(new Object[] {42, "gone"});
    warning.setLoggerName("dev.sbx.envd.X");
    warning.setThrown(new IllegalStateException("boom"));
    ring.publish(warning);
    ring.publish(new LogRecord(Level.SEVERE, "bad"));
    ring.publish(new LogRecord(Level.FINE, "fine"));
    ring.publish(new LogRecord(Level.INFO, "x".repeat(5000)));

    var entries = ring.newest(10);
    assertThat(entries)
        .extracting(LogRing.Entry::level)
        .containsExactly("warn", "error", "debug", "info");
    assertThat(entries.get(0).message())
        .isEqualTo("process 42: gone: java.lang.IllegalStateException: boom");
    assertThat(entries.get(0).logger()).isEqualTo("dev.sbx.envd.X");
    assertThat(entries.get(3).message()).hasSize(LogRing.MAX_MESSAGE_CHARS).endsWith("…");
    assertThat(
            ring.toJson(1)
                .getAsJsonArray("logs")
                .get(0)
                .getAsJsonObject()
                .get("level")
                .getAsString())
        .isEqualTo("info");
  }

  @Test
  void installIsOncePerJvmAndCatchesSystemLoggerRecords() {
    LogRing ring = LogRing.install();
    assertThat(LogRing.install()).isSameAs(ring);
    System.getLogger("dev.sbx.envd.LogRingTest")
        .log(System.Logger.Level.WARNING, "ring test {0}", "marker-7");
    assertThat(ring.newest(ring.capacity()))
        .anySatisfy(
            e -> {
              assertThat(e.message()).isEqualTo("ring test marker-7");
              assertThat(e.level()).isEqualTo("warn");
            });
  }
}
