package dev.sbx.envd;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Message;
import java.time.Duration;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * A server-streaming handler running on its own virtual thread, as the Connect server runs it,
 * sending into a {@link FakeResponseStream}; what the handler throws is kept as its {@link
 * #failure()}.
 */
public final class RunningStream<Res extends Message> {
  private final FakeResponseStream<Res> stream = new FakeResponseStream<>();
  private final Thread thread;
  private volatile @Nullable Throwable failure;

  private RunningStream(Consumer<FakeResponseStream<Res>> handler) {
    this.thread =
        Thread.ofVirtual()
            .unstarted(
                () -> {
                  try {
                    handler.accept(stream);
                  } catch (Throwable t) {
                    failure = t;
                  }
                });
  }

  /** Starts {@code handler} (e.g. {@code s -> service.watchDir(request, context, s)}). */
  public static <Res extends Message> RunningStream<Res> start(
      Consumer<FakeResponseStream<Res>> handler) {
    requireNonNull(handler, "handler");
    RunningStream<Res> running = new RunningStream<>(handler);
    running.thread.start();
    return running;
  }

  /** What the handler sends; {@link FakeResponseStream#cancel()} plays the client leaving. */
  public FakeResponseStream<Res> stream() {
    return stream;
  }

  /** Waits up to {@code timeout} for the handler to return; whether it did. */
  public boolean awaitEnd(Duration timeout) throws InterruptedException {
    return thread.join(timeout);
  }

  public boolean isDone() {
    return !thread.isAlive();
  }

  /** What the handler threw, if it has. */
  public @Nullable Throwable failure() {
    return failure;
  }
}
