package dev.sbx.envd.http;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import org.jspecify.annotations.Nullable;

/**
 * envd's own recent log, kept in memory: a {@link java.util.logging} handler on the root logger
 * (where {@link System.Logger} writes) that keeps the newest {@link #capacity()} records, each
 * message cut at {@link #MAX_MESSAGE_CHARS}. The control plane reads it through {@link LogRoute}
 * and merges it into E2B's sandbox logs. Nothing is written to disk.
 */
public final class LogRing extends Handler {
  /** A message longer than this is cut (and ends with an ellipsis). */
  public static final int MAX_MESSAGE_CHARS = 2048;

  private static final Object INSTALL_LOCK = new Object();
  private static @Nullable LogRing installed;

  /** One kept record. */
  public record Entry(Instant timestamp, String level, String logger, String message) {
    JsonObject toJson() {
      JsonObject json = new JsonObject();
      json.addProperty("timestamp", timestamp.toString());
      json.addProperty("level", level);
      json.addProperty("logger", logger);
      json.addProperty("message", message);
      return json;
    }
  }

  private final int capacity;
  private final ArrayDeque<Entry> entries;
  private final SimpleFormatter formatter = new SimpleFormatter();

  public LogRing(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1");
    }
    this.capacity = capacity;
    this.entries = new ArrayDeque<>(Math.min(capacity, 1024));
  }

  /** The ring of this JVM, installed on the root logger the first time (1,000 records). */
  public static LogRing install() {
    synchronized (INSTALL_LOCK) {
      LogRing ring = installed;
      if (ring == null) {
        ring = new LogRing(1000);
        Logger.getLogger("").addHandler(ring);
        installed = ring;
      }
      return ring;
    }
  }

  public int capacity() {
    return capacity;
  }

  @Override
  public void publish(LogRecord record) {
    if (record == null || !isLoggable(record)) {
      return;
    }
    String message;
    try {
      message = formatter.formatMessage(record);
    } catch (RuntimeException e) {
      message = String.valueOf(record.getMessage());
    }
    Throwable thrown = record.getThrown();
    if (thrown != null) {
      message = message + ": " + thrown;
    }
    if (message.length() > MAX_MESSAGE_CHARS) {
      message = message.substring(0, MAX_MESSAGE_CHARS - 1) + "…";
    }
    String logger = record.getLoggerName() == null ? "" : record.getLoggerName();
    add(new Entry(record.getInstant(), level(record.getLevel()), logger, message));
  }

  /** Keeps {@code entry}, dropping the oldest one when full. */
  public void add(Entry entry) {
    synchronized (entries) {
      if (entries.size() == capacity) {
        entries.pollFirst();
      }
      entries.addLast(entry);
    }
  }

  /** The newest {@code limit} records, oldest first. */
  public List<Entry> newest(int limit) {
    synchronized (entries) {
      int skip = Math.max(0, entries.size() - Math.max(0, limit));
      List<Entry> result = new ArrayList<>(entries.size() - skip);
      int i = 0;
      for (Entry e : entries) {
        if (i++ >= skip) {
          result.add(e);
        }
      }
      return result;
    }
  }

  /** {@code {"logs":[{timestamp, level, logger, message}, …]}}, oldest first. */
  public JsonObject toJson(int limit) {
    JsonArray logs = new JsonArray();
    newest(limit).forEach(e -> logs.add(e.toJson()));
    JsonObject json = new JsonObject();
    json.add("logs", logs);
    return json;
  }

  /** E2B's level names: debug, info, warn, error. */
  static String level(Level level) {
    int value = level.intValue();
    if (value >= Level.SEVERE.intValue()) {
      return "error";
    }
    if (value >= Level.WARNING.intValue()) {
      return "warn";
    }
    if (value >= Level.INFO.intValue()) {
      return "info";
    }
    return "debug";
  }

  @Override
  public void flush() {}

  @Override
  public void close() {}
}
