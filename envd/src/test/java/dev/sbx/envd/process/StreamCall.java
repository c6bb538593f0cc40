package dev.sbx.envd.process;

import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import dev.sbx.connect.ResponseStream;
import dev.sbx.envd.FakeResponseStream;
import dev.sbx.envd.RunningStream;
import dev.sbx.proto.process.ProcessEvent;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * A server-streaming call (Start or Connect) running on its own virtual thread, as the Connect
 * server would run it, into a {@link FakeResponseStream} that records what the handler sends.
 */
final class StreamCall<M extends Message> {
  private static final Duration WAIT = Duration.ofSeconds(20);

  private final Function<M, ProcessEvent> eventOf;
  private final RunningStream<M> running;

  private StreamCall(Function<M, ProcessEvent> eventOf, RunningStream<M> running) {
    this.eventOf = eventOf;
    this.running = running;
  }

  static <M extends Message> StreamCall<M> run(
      Function<M, ProcessEvent> eventOf, Consumer<ResponseStream<M>> handler) {
    return new StreamCall<>(eventOf, RunningStream.start(handler::accept));
  }

  /** The client goes away. */
  void cancel() {
    running.stream().cancel();
  }

  ProcessEvent next() throws InterruptedException {
    M message = running.stream().next(WAIT);
    assertThat(message)
        .as("an event within %s (handler failure: %s)", WAIT, running.failure())
        .isNotNull();
    return eventOf.apply(requireNonNull(message));
  }

  /** The start event's pid (the first event must be start). */
  int awaitStart() throws InterruptedException {
    ProcessEvent first = next();
    assertThat(first.hasStart()).as("first event is start: %s", first).isTrue();
    return first.getStart().getPid();
  }

  /** Waits for the handler to return and gives everything it sent. */
  Result finish() throws InterruptedException {
    assertThat(running.awaitEnd(WAIT)).as("the stream ends").isTrue();
    return new Result(running.stream().drain().stream().map(eventOf).toList(), running.failure());
  }

  /** Waits for the handler to return and gives its failure. */
  @Nullable Throwable awaitFailure() throws InterruptedException {
    assertThat(running.awaitEnd(WAIT)).as("the stream ends").isTrue();
    return running.failure();
  }

  /** Waits for the handler to return and throws what it threw (for expected errors). */
  void awaitFailureRethrown() throws Throwable {
    Throwable thrown = awaitFailure();
    if (thrown != null) {
      throw thrown;
    }
  }

  boolean isDone() {
    return running.isDone();
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
