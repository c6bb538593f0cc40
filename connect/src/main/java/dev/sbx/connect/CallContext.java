package dev.sbx.connect;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** What a handler knows about the call it serves. */
public interface CallContext {
  /** The fully qualified method, e.g. {@code process.Process/Start}. */
  String procedure();

  /** The first value of a request header (case-insensitive), or {@code null}. */
  @Nullable String header(String name);

  /** Every value of a request header (case-insensitive); empty when absent. */
  List<String> headers(String name);

  /** The client's {@code Connect-Timeout-Ms}, or {@code null} when it set none. */
  @Nullable Duration timeout();

  InetSocketAddress remoteAddress();

  /**
   * Adds a response header. Effective until the response headers are sent: before a unary handler
   * returns, or before the first message of a stream.
   */
  void addResponseHeader(String name, String value);
}
