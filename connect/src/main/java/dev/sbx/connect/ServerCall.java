package dev.sbx.connect;

import com.sun.net.httpserver.HttpExchange;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * The server side of one call: what the handler sees ({@link CallContext}), the response headers it
 * adds, and the call's deadline. The deadline runs on a virtual thread of its own; when it fires it
 * answers through the expiry action and only then interrupts the handler thread, so no response
 * bytes are ever written while that thread is interrupted.
 */
final class ServerCall implements CallContext {
  private final HttpExchange exchange;
  private final String procedure;
  private final @Nullable Duration timeout;
  private final Thread handlerThread = Thread.currentThread();
  private final ReentrantLock lock = new ReentrantLock();
  private final List<Map.Entry<String, String>> responseHeaders = new ArrayList<>();
  private boolean responseHeadersSent;
  private boolean responded;
  private boolean handlerDone;
  private boolean deadlineFired;
  private @Nullable Thread deadlineThread;

  ServerCall(HttpExchange exchange, String procedure, @Nullable Duration timeout) {
    this.exchange = exchange;
    this.procedure = procedure;
    this.timeout = timeout;
  }

  HttpExchange exchange() {
    return exchange;
  }

  @Override
  public String procedure() {
    return procedure;
  }

  @Override
  public @Nullable String header(String name) {
    return exchange.getRequestHeaders().getFirst(name);
  }

  @Override
  public List<String> headers(String name) {
    List<String> values = exchange.getRequestHeaders().get(name);
    return values == null ? List.of() : List.copyOf(values);
  }

  @Override
  public @Nullable Duration timeout() {
    return timeout;
  }

  @Override
  public InetSocketAddress remoteAddress() {
    return exchange.getRemoteAddress();
  }

  @Override
  public void addResponseHeader(String name, String value) {
    java.util.Objects.requireNonNull(name, "name");
    java.util.Objects.requireNonNull(value, "value");
    lock.lock();
    try {
      if (!responseHeadersSent) {
        responseHeaders.add(Map.entry(name, value));
      }
    } finally {
      lock.unlock();
    }
  }

  /** Copies the handler's response headers into the exchange; later additions are ignored. */
  void applyResponseHeaders() {
    lock.lock();
    try {
      responseHeadersSent = true;
      for (Map.Entry<String, String> header : responseHeaders) {
        exchange.getResponseHeaders().add(header.getKey(), header.getValue());
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Claims the right to write the (unary) response; true for exactly one caller, who then writes
   * and closes the exchange.
   */
  boolean claimResponse() {
    lock.lock();
    try {
      if (responded) {
        return false;
      }
      responded = true;
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** Runs {@code onExpiry} on a virtual thread when the timeout passes before {@link #finish}. */
  void startDeadline(Duration after, Runnable onExpiry) {
    Thread thread =
        Thread.ofVirtual()
            .name("connect-deadline " + procedure)
            .unstarted(
                () -> {
                  try {
                    Thread.sleep(after);
                  } catch (InterruptedException e) {
                    return;
                  }
                  lock.lock();
                  try {
                    if (handlerDone) {
                      return;
                    }
                    deadlineFired = true;
                  } finally {
                    lock.unlock();
                  }
                  onExpiry.run();
                });
    deadlineThread = thread;
    thread.start();
  }

  /** Interrupts the handler thread if it is still serving this call. */
  void interruptHandler() {
    lock.lock();
    try {
      if (!handlerDone) {
        handlerThread.interrupt();
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Called by the handler thread as it leaves the call: stops a pending deadline and clears an
   * interrupt the deadline may have delivered.
   */
  void finish() {
    boolean stopDeadline;
    lock.lock();
    try {
      handlerDone = true;
      stopDeadline = !deadlineFired;
    } finally {
      lock.unlock();
    }
    Thread thread = deadlineThread;
    if (stopDeadline && thread != null) {
      thread.interrupt();
    }
    Thread.interrupted();
  }
}
