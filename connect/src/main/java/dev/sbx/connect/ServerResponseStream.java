package dev.sbx.connect;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Message;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * The streaming-framed response of a call: HTTP 200 with {@code application/connect+<codec>}, sent
 * lazily with the first message or the end, then one envelope per message, each flushed at once,
 * then the end-stream envelope. Writes are serialized by a lock so that the deadline can end the
 * stream while the handler is sending.
 */
final class ServerResponseStream<Res extends Message> implements ResponseStream<Res> {
  private static final System.Logger LOG = System.getLogger(ServerResponseStream.class.getName());

  private final ServerCall call;
  private final Codec codec;
  private final ReentrantLock lock = new ReentrantLock();
  private @Nullable OutputStream body;
  private boolean ended;
  private volatile @Nullable ConnectCode cancelled;

  ServerResponseStream(ServerCall call, Codec codec) {
    this.call = call;
    this.codec = codec;
  }

  @Override
  public void send(Res message) {
    requireNonNull(message, "message");
    byte[] payload = codec.encode(message);
    lock.lock();
    try {
      ConnectCode reason = cancelled;
      if (reason != null) {
        throw new ConnectException(reason, reasonText(reason));
      }
      if (ended) {
        throw new ConnectException(ConnectCode.CANCELED, "the stream has ended");
      }
      try {
        OutputStream out = start();
        new Envelope(0, payload).writeTo(out);
        out.flush();
      } catch (IOException e) {
        cancelled = ConnectCode.CANCELED;
        throw new ConnectException(ConnectCode.CANCELED, reasonText(ConnectCode.CANCELED), e);
      }
    } finally {
      lock.unlock();
    }
  }

  @Override
  public boolean isCancelled() {
    return cancelled != null;
  }

  /**
   * Writes the end-stream message ({@code {}} or the error) and closes the exchange, unless the
   * stream has already ended. Returns whether this call ended it.
   */
  boolean end(@Nullable ConnectException error) {
    lock.lock();
    try {
      if (ended) {
        return false;
      }
      ended = true;
      try {
        OutputStream out = start();
        new Envelope(Envelope.END_STREAM, ErrorJson.endStream(error)).writeTo(out);
        out.flush();
      } catch (IOException e) {
        cancelled = ConnectCode.CANCELED;
        LOG.log(Level.DEBUG, "{0}: client gone before the end of the stream", call.procedure());
      } finally {
        try {
          call.exchange().close();
        } catch (RuntimeException e) {
          LOG.log(Level.DEBUG, "closing the exchange failed", e);
        }
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * The deadline passed: cancel, end with {@code deadline_exceeded}, interrupt the handler. The
   * cancellation and the end-stream message are one step under the lock: a handler that returns as
   * soon as it sees {@link #isCancelled} (envd's process stream does) would otherwise have its
   * normal end ({@code {}}) written first, and the client would see a stream that ended without
   * error and without its last event.
   */
  void expire() {
    boolean ended;
    lock.lock();
    try {
      if (cancelled == null) {
        cancelled = ConnectCode.DEADLINE_EXCEEDED;
      }
      ended = end(new ConnectException(ConnectCode.DEADLINE_EXCEEDED, "deadline exceeded"));
    } finally {
      lock.unlock();
    }
    if (ended) {
      call.interruptHandler();
    }
  }

  private OutputStream start() throws IOException {
    OutputStream out = body;
    if (out == null) {
      call.applyResponseHeaders();
      call.exchange().getResponseHeaders().set("Content-Type", codec.streamContentType());
      call.exchange().getResponseHeaders().set("Connect-Accept-Encoding", Gzip.NAME);
      call.exchange().sendResponseHeaders(200, 0);
      out = call.exchange().getResponseBody();
      body = out;
    }
    return out;
  }

  private static String reasonText(ConnectCode reason) {
    return reason == ConnectCode.DEADLINE_EXCEEDED ? "deadline exceeded" : "the client went away";
  }
}
