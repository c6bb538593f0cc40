package dev.sbx.envd.process;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import dev.sbx.connect.ConnectCode;
import dev.sbx.connect.ConnectException;
import dev.sbx.connect.ResponseStream;
import dev.sbx.proto.process.ProcessEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * A server-streaming call (Start or Connect) running on its own virtual thread, as the Connect
 * server would run it, with a response stream that records what the handler sends.
 */
final class StreamCall<M extends Message> implements ResponseStream<M> {
  private static final Duration WAIT = Duration.ofSeconds(20);

  private final LinkedBlockingQueue<ProcessEvent> events = new LinkedBlockingQueue<>();
  private final Function<M, ProcessEvent> eventOf;
  private final Thread thread;
  private volatile boolean cancelled;
  private volatile @Nullable Throwable failure;

  private StreamCall(
      Function<M, ProcessEvent> eventOf, BiConsumer<StreamCall<M>, ResponseStream<M>> handler) {
    this.eventOf = eventOf;
    this.thread =
        Thread.ofVirtual()
            .unstarted(
                () -> {
                  try {
                    handler.accept(this, this);
                  } catch (Throwable t) {
                    failure = t;
                  }
                });
  }

  static <M extends Message> StreamCall<M> run(
      Function<M, ProcessEvent> eventOf, java.util.function.Consumer<ResponseStream<M>> handler) {
    StreamCall<M> call = new StreamCall<>(eventOf, (c, stream) -> handler.accept(stream));
    call.thread.start();
    return call;
  }

  @Override
  public void send(M message) {
    if (cancelled) {
      throw new ConnectException(ConnectCode.CANCELED, "client gone");
    }
    events.add(eventOf.apply(message));
  }

  @Override
  public boolean isCancelled() {
    return cancelled;
  }

  /** The client goes away. */
  void cancel() {
    cancelled = true;
  }

  ProcessEvent next() throws InterruptedException {
    ProcessEvent event = events.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    assertThat(event).as("an event within %s (handler failure: %s)", WAIT, failure).isNotNull();
    return event;
  }

  /** The start event's pid (the first event must be start). */
  int awaitStart() throws InterruptedException {
    ProcessEvent first = next();
    assertThat(first.hasStart()).as("first event is start: %s", first).isTrue();
    return first.getStart().getPid();
  }

  /** Waits for the handler to return and gives everything it sent. */
  Result finish() throws InterruptedException {
    assertThat(thread.join(WAIT)).as("the stream ends").isTrue();
    List<ProcessEvent> all = new ArrayList<>();
    events.drainTo(all);
    return new Result(all, failure);
  }

  /** Waits for the handler to return and gives its failure. */
  @Nullable Throwable awaitFailure() throws InterruptedException {
    assertThat(thread.join(WAIT)).as("the stream ends").isTrue();
    return failure;
  }

  /** Waits for the handler to return and throws what it threw (for expected errors). */
  void awaitFailureRethrown() throws Throwable {
    Throwable thrown = awaitFailure();
    if (thrown != null) {
      throw thrown;
    }
  }

  boolean isDone() {
    return !thread.isAlive();
  }

  /** What a stream sent, in order. */
  record Result(List<ProcessEvent> events, @Nullable Throwable failure) {
    String stdout() {
      return collect(d -> d.getStdout());
    }

    String stderr() {
      return collect(d -> d.getStderr());
    }

    String pty() {
      return collect(d -> d.getPty());
    }

    private String collect(Function<ProcessEvent.DataEvent, ByteString> part) {
      ByteString all = ByteString.EMPTY;
      for (ProcessEvent event : events) {
        if (event.hasData()) {
          all = all.concat(part.apply(event.getData()));
        }
      }
      return all.toStringUtf8();
    }

    ProcessEvent.EndEvent end() {
      assertThat(failure).as("stream failure").isNull();
      assertThat(events).isNotEmpty();
      ProcessEvent last = events.getLast();
      assertThat(last.hasEnd()).as("last event is end: %s", last).isTrue();
      assertThat(events.stream().filter(ProcessEvent::hasEnd)).hasSize(1);
      return last.getEnd();
    }

    long count(ProcessEvent.EventCase kind) {
      return events.stream().filter(e -> e.getEventCase() == kind).count();
    }
  }
}
