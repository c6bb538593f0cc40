package dev.sbx.connect;

import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpHeaders;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * The responses of a streaming call made with {@link ConnectClient}, read as they arrive. {@link
 * #next()} blocks for the next message and returns {@code null} at a successful end; an error in
 * the end-stream message (or a broken stream) is thrown as {@link ConnectException}. Closing the
 * stream aborts the HTTP request. Not for concurrent readers, but {@link #close()} may come from
 * any thread and wakes a blocked {@link #next()}.
 */
public final class ServerStream<Res extends Message> implements AutoCloseable, Iterable<Res> {
  private final HttpHeaders headers;
  private final InputStream body;
  private final Codec codec;
  private final Res prototype;
  private final boolean gzip;
  private final int maxMessageBytes;
  private final ReentrantLock closeLock = new ReentrantLock();
  private volatile @Nullable ConnectCode abortReason;
  private volatile boolean done;
  private volatile @Nullable ConnectException failure;
  private volatile Map<String, List<String>> trailers = Map.of();
  private volatile @Nullable Thread deadline;

  ServerStream(
      HttpHeaders headers,
      InputStream body,
      Codec codec,
      Res prototype,
      boolean gzip,
      int maxMessageBytes) {
    this.headers = headers;
    this.body = body;
    this.codec = codec;
    this.prototype = prototype;
    this.gzip = gzip;
    this.maxMessageBytes = maxMessageBytes;
  }

  /** The response headers. */
  public Map<String, List<String>> headers() {
    return headers.map();
  }

  /** The first value of a response header (case-insensitive), or {@code null}. */
  public @Nullable String header(String name) {
    return headers.firstValue(name).orElse(null);
  }

  /** The metadata of the end-stream message; empty until the stream has ended. */
  public Map<String, List<String>> trailers() {
    return trailers;
  }

  /**
   * Blocks for the next message; {@code null} once the stream has ended successfully. Throws {@link
   * ConnectException} for the stream's error, {@code canceled} after {@link #close()}.
   */
  public @Nullable Res next() {
    ConnectException failed = failure;
    if (failed != null) {
      throw failed;
    }
    if (done) {
      return null;
    }
    Envelope envelope;
    try {
      envelope = Envelope.read(body, maxMessageBytes);
    } catch (IOException e) {
      throw fail(
          new ConnectException(ConnectCode.UNAVAILABLE, "reading the stream failed: " + e, e));
    } catch (ConnectException e) {
      throw fail(
          new ConnectException(
              e.code() == ConnectCode.RESOURCE_EXHAUSTED ? e.code() : ConnectCode.INTERNAL,
              "malformed stream: " + e.getMessage(),
              e));
    }
    if (envelope == null) {
      throw fail(
          new ConnectException(ConnectCode.INTERNAL, "stream ended without an end-stream message"));
    }
    byte[] payload = envelope.payload();
    if (envelope.compressed()) {
      if (!gzip) {
        throw fail(
            new ConnectException(
                ConnectCode.INTERNAL, "compressed message without Connect-Content-Encoding"));
      }
      try {
        payload = Gzip.decompress(payload, maxMessageBytes);
      } catch (ConnectException e) {
        throw fail(new ConnectException(ConnectCode.INTERNAL, e.getMessage(), e));
      }
    }
    if (envelope.endStream()) {
      Struct end = ErrorJson.parseObject(payload);
      if (end == null) {
        throw fail(new ConnectException(ConnectCode.INTERNAL, "malformed end-stream message"));
      }
      trailers = ErrorJson.metadata(end);
      done = true;
      closeQuietly();
      if (end.containsFields("error")) {
        Struct error = end.getFieldsOrThrow("error").getStructValue();
        ConnectException parsed = ErrorJson.parseError(error);
        ConnectException serverError =
            parsed != null
                ? parsed
                : new ConnectException(
                    ConnectCode.UNKNOWN, ErrorJson.stringField(error, "message"));
        failure = serverError;
        throw serverError;
      }
      return null;
    }
    try {
      return codec.decode(payload, prototype);
    } catch (ConnectException e) {
      throw fail(new ConnectException(ConnectCode.INTERNAL, e.getMessage(), e));
    }
  }

  @Override
  public Iterator<Res> iterator() {
    return new Iterator<>() {
      private @Nullable Res next;

      @Override
      public boolean hasNext() {
        if (next == null) {
          next = ServerStream.this.next();
        }
        return next != null;
      }

      @Override
      public Res next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        Res result = next;
        next = null;
        if (result == null) {
          throw new NoSuchElementException();
        }
        return result;
      }
    };
  }

  /** Aborts the call unless it has ended; a blocked {@link #next()} throws {@code canceled}. */
  @Override
  public void close() {
    abort(ConnectCode.CANCELED);
  }

  /**
   * Ends the call with {@code deadline_exceeded} when the server has not ended it by {@code at}.
   */
  void startDeadline(java.time.Duration after) {
    deadline =
        Thread.ofVirtual()
            .name("connect-client-deadline")
            .start(
                () -> {
                  try {
                    Thread.sleep(after);
                  } catch (InterruptedException e) {
                    return;
                  }
                  abort(ConnectCode.DEADLINE_EXCEEDED);
                });
  }

  private void abort(ConnectCode reason) {
    closeLock.lock();
    try {
      if (!done && abortReason == null) {
        abortReason = reason;
      }
    } finally {
      closeLock.unlock();
    }
    closeQuietly();
  }

  /**
   * Ends the stream with a local failure (transport or protocol) that every later {@link #next()}
   * throws again; after {@link #close()} or the client-side deadline, that reason is the error.
   */
  private ConnectException fail(ConnectException error) {
    done = true;
    closeQuietly();
    ConnectCode reason = abortReason;
    ConnectException result =
        reason == null
            ? error
            : new ConnectException(
                reason,
                reason == ConnectCode.DEADLINE_EXCEEDED ? "deadline exceeded" : "stream closed",
                error);
    failure = result;
    return result;
  }

  private void closeQuietly() {
    Thread timer = deadline;
    if (timer != null && timer != Thread.currentThread()) {
      timer.interrupt();
    }
    try {
      body.close();
    } catch (IOException e) {
      // nothing to recover: the connection is being dropped anyway
    }
  }
}
