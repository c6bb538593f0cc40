package dev.sbx.envd.filesystem;

import dev.sbx.connect.ConnectCode;
import dev.sbx.connect.ConnectException;
import dev.sbx.proto.filesystem.FilesystemEvent;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The events of a polling watcher ({@code CreateWatcher}) until {@code GetWatcherEvents} drains
 * them. Holds at most {@code capacity} events: one more ends the watch, since events are lost and
 * the client cannot know which; from then on every drain fails with {@code internal}, like a watch
 * that failed otherwise (E2B's envd keeps a watcher's error the same way).
 */
final class BufferedEvents implements DirectoryWatch.Listener {
  private final int capacity;
  private List<FilesystemEvent> events = new ArrayList<>();
  private @Nullable String failure;

  BufferedEvents(int capacity) {
    this.capacity = capacity;
  }

  @Override
  public synchronized boolean onEvent(FilesystemEvent event) {
    if (failure != null) {
      return false;
    }
    if (events.size() >= capacity) {
      failure =
          "watcher error: more than "
              + capacity
              + " events were not collected with GetWatcherEvents, events were lost";
      events = new ArrayList<>();
      return false;
    }
    events.add(event);
    return true;
  }

  @Override
  public synchronized void onFailure(String message) {
    if (failure == null) {
      failure = message;
    }
  }

  /** The events since the last drain; throws once the watch has failed. */
  synchronized List<FilesystemEvent> drain() {
    if (failure != null) {
      throw new ConnectException(ConnectCode.INTERNAL, failure);
    }
    List<FilesystemEvent> drained = events;
    events = new ArrayList<>();
    return drained;
  }
}
