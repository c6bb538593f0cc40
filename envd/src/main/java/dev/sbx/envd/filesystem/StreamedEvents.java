package dev.sbx.envd.filesystem;

import dev.sbx.proto.filesystem.FilesystemEvent;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Hands a watch's events to the {@code WatchDir} stream. Bounded: when the client reads slower than
 * events come, the watch thread waits (and the kernel queues meanwhile).
 */
final class StreamedEvents implements DirectoryWatch.Listener {
  /** An event, or the watch's failure. */
  record Item(@Nullable FilesystemEvent event, @Nullable String failure) {}

  private final BlockingQueue<Item> queue;

  StreamedEvents(int capacity) {
    this.queue = new ArrayBlockingQueue<>(capacity);
  }

  @Override
  public boolean onEvent(FilesystemEvent event) throws InterruptedException {
    queue.put(new Item(event, null));
    return true;
  }

  @Override
  public void onFailure(String message) {
    // The watch has ended: make room if need be, the failure must get through.
    while (!queue.offer(new Item(null, message))) {
      queue.poll();
    }
  }

  @Nullable Item poll(long timeout, TimeUnit unit) throws InterruptedException {
    return queue.poll(timeout, unit);
  }
}
