package dev.sbx.envd;

import com.google.protobuf.Message;
import dev.sbx.connect.ConnectCode;
import dev.sbx.connect.ConnectException;
import dev.sbx.connect.ResponseStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Collects what a server-streaming handler sends; {@link #cancel()} plays the client leaving, after
 * which {@link #send} throws {@code ConnectException(CANCELED)} as the real stream does.
 */
public final class FakeResponseStream<Res extends Message> implements ResponseStream<Res> {
  private final BlockingQueue<Res> sent = new LinkedBlockingQueue<>();
  private volatile boolean cancelled;

  @Override
  public void send(Res message) {
    if (cancelled) {
      throw new ConnectException(ConnectCode.CANCELED, "client went away");
    }
    sent.add(message);
  }

  @Override
  public boolean isCancelled() {
    return cancelled;
  }

  /** The client goes away. */
  public void cancel() {
    cancelled = true;
  }

  /** The next message sent, waiting up to {@code timeout}; null when none came. */
  public @Nullable Res next(Duration timeout) throws InterruptedException {
    return sent.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Every message sent and not yet taken by {@link #next}, in order. */
  public List<Res> drain() {
    List<Res> all = new ArrayList<>();
    sent.drainTo(all);
    return all;
  }
}
