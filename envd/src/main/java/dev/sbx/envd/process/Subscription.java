package dev.sbx.envd.process;

import dev.sbx.proto.process.ProcessEvent;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * The events of one process for one attached stream: the data produced while it is attached, then
 * the end. Counts the output bytes not yet taken, so that a slow client slows the process down
 * instead of filling envd's memory.
 */
final class Subscription {
  private final LinkedBlockingQueue<ProcessEvent> events = new LinkedBlockingQueue<>();
  private final AtomicLong queuedBytes = new AtomicLong();

  void offer(ProcessEvent event) {
    queuedBytes.addAndGet(size(event));
    events.add(event);
  }

  /** The next event, or null when none comes within {@code timeoutNanos}. */
  @Nullable ProcessEvent poll(long timeoutNanos) throws InterruptedException {
    ProcessEvent event = events.poll(timeoutNanos, TimeUnit.NANOSECONDS);
    if (event != null) {
      queuedBytes.addAndGet(-size(event));
    }
    return event;
  }

  long queuedBytes() {
    return queuedBytes.get();
  }

  private static int size(ProcessEvent event) {
    if (!event.hasData()) {
      return 0;
    }
    ProcessEvent.DataEvent data = event.getData();
    return data.getStdout().size() + data.getStderr().size() + data.getPty().size();
  }
}
