package dev.sbx.envd.http;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * envd's lines on stderr: {@code <instant> <level> <logger>: <message>}, one line per record (plus
 * a stack trace when there is one). The JDK's {@link java.util.logging.SimpleFormatter} names the
 * calling class and method, which it finds by walking the stack of every record: that walk made a
 * logged {@code /init} (on the path of every sandbox create) ≈ 1–2 ms slower than one that logs
 * nothing. The logger's name says the same here, since every envd logger is named after its class.
 */
public final class ConsoleLogFormat extends Formatter {

  /** Puts this format on the root logger's console handlers (the JDK's default: one on stderr). */
  public static void install() {
    for (Handler handler : Logger.getLogger("").getHandlers()) {
      if (handler instanceof ConsoleHandler) {
        handler.setFormatter(new ConsoleLogFormat());
      }
    }
  }

  @Override
  public String format(LogRecord record) {
    StringBuilder line =
        new StringBuilder(128)
            .append(record.getInstant())
            .append(' ')
            .append(record.getLevel().getName())
            .append(' ')
            .append(record.getLoggerName())
            .append(": ")
            .append(formatMessage(record))
            .append(System.lineSeparator());
    Throwable thrown = record.getThrown();
    if (thrown != null) {
      StringWriter trace = new StringWriter();
      try (PrintWriter out = new PrintWriter(trace)) {
        thrown.printStackTrace(out);
      }
      line.append(trace);
    }
    return line.toString();
  }
}
