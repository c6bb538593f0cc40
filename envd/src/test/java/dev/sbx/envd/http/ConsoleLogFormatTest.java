package dev.sbx.envd.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

class ConsoleLogFormatTest {

  private static LogRecord record(Level level, String message, Object... parameters) {
    LogRecord record = new LogRecord(level, message);
    record.setLoggerName("dev.sbx.envd.http.InitRoute");
    record.setInstant(Instant.parse("2026-11-25T02:29:16.205Z"));
    record.setParameters(parameters);
    return record;
  }

  @Test
  void oneLineWithTimeLevelLoggerAndTheFormattedMessage() {
    String line =
        new ConsoleLogFormat()
            .format(record(Level.INFO, "init: {0} env vars, default user {1}", 2, "user"));

    assertThat(line)
        .isEqualTo(
            "2026-11-25T02:29:16.205Z INFO dev.sbx.envd.http.InitRoute: init: 2 env vars,"
                + " default user user"
                + System.lineSeparator());
  }

  @Test
  void neverAsksForTheCallingClass() {
    // SimpleFormatter asks, and the record then walks the stack to find it
    LogRecord record =
        new LogRecord(Level.WARNING, "x") {
          @Override
          public String getSourceClassName() {
            throw new AssertionError("the source class was asked for");
          }

          @Override
          public String getSourceMethodName() {
            throw new AssertionError("the source method was asked for");
          }
        };
    record.setLoggerName("envd");

    assertThat(new ConsoleLogFormat().format(record)).contains(" WARNING envd: x");
  }

  @Test
  void aThrowableFollowsWithItsStackTrace() {
    LogRecord record = record(Level.WARNING, "GET /files failed");
    record.setThrown(new IllegalStateException("disk gone"));

    String text = new ConsoleLogFormat().format(record);

    assertThat(text.lines().findFirst())
        .hasValue(
            "2026-11-25T02:29:16.205Z WARNING dev.sbx.envd.http.InitRoute: GET /files failed");
    assertThat(text)
        .contains("java.lang.IllegalStateException: disk gone")
        .contains("\tat dev.sbx.envd.http.ConsoleLogFormatTest");
  }
}
