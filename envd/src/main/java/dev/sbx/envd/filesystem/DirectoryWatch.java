package dev.sbx.envd.filesystem;

import static dev.sbx.envd.linux.Inotify.IN_ATTRIB;
import static dev.sbx.envd.linux.Inotify.IN_CREATE;
import static dev.sbx.envd.linux.Inotify.IN_DELETE;
import static dev.sbx.envd.linux.Inotify.IN_DELETE_SELF;
import static dev.sbx.envd.linux.Inotify.IN_DONT_FOLLOW;
import static dev.sbx.envd.linux.Inotify.IN_IGNORED;
import static dev.sbx.envd.linux.Inotify.IN_ISDIR;
import static dev.sbx.envd.linux.Inotify.IN_MODIFY;
import static dev.sbx.envd.linux.Inotify.IN_MOVED_FROM;
import static dev.sbx.envd.linux.Inotify.IN_MOVED_TO;
import static dev.sbx.envd.linux.Inotify.IN_MOVE_SELF;
import static dev.sbx.envd.linux.Inotify.IN_ONLYDIR;
import static dev.sbx.envd.linux.Inotify.IN_Q_OVERFLOW;
import static dev.sbx.envd.linux.Inotify.IN_UNMOUNT;

import dev.sbx.envd.linux.Inotify;
import dev.sbx.envd.user.UserDirectory;
import dev.sbx.proto.filesystem.EventType;
import dev.sbx.proto.filesystem.FilesystemEvent;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Watches a directory (and, when recursive, every directory below it) with one inotify instance
 * read by a dedicated platform thread, and reports what happens as {@link FilesystemEvent}s the way
 * E2B's envd does through Go's fsnotify:
 *
 * <ul>
 *   <li>{@code IN_CREATE}, {@code IN_MOVED_TO} → CREATE; {@code IN_MOVED_FROM} → RENAME; {@code
 *       IN_ATTRIB} → CHMOD; {@code IN_MODIFY} → WRITE; {@code IN_DELETE} → REMOVE. An event with
 *       several of these becomes several events, in that order. {@code IN_CLOSE_WRITE} is not
 *       watched (fsnotify does not report it either), so a write is reported once per {@code
 *       write(2)}, not twice.
 *   <li>The watched directory itself: deleted → REMOVE {@code "."}; moved → RENAME {@code "."} and
 *       the watch ends (not recursive; a recursive watch ignores it, as fsnotify does).
 *   <li>Recursive: a directory created or moved in is watched at once, and everything already
 *       inside it is reported as CREATE (it was created before the watch could see it, e.g. {@code
 *       mkdir -p a/b/c}); a directory moved out or removed stops being watched. Symlinks are not
 *       followed below the watched directory.
 * </ul>
 *
 * <p>Event names are relative to the watched directory. When the kernel's queue overflows, or a new
 * directory cannot be watched, the listener gets a failure and the watch ends. {@link #close()}
 * ends the thread and closes the inotify descriptor (and so every watch).
 */
final class DirectoryWatch implements AutoCloseable {
  private static final Logger LOG = System.getLogger(DirectoryWatch.class.getName());

  private static final int EVENTS =
      IN_CREATE
          | IN_MODIFY
          | IN_DELETE
          | IN_DELETE_SELF
          | IN_MOVED_FROM
          | IN_MOVED_TO
          | IN_MOVE_SELF
          | IN_ATTRIB;

  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);

  /** Receives the events of a watch, on the watch's thread. */
  interface Listener {
    /**
     * One event. May block (back-pressure: the kernel queues meanwhile). Returns false to end the
     * watch.
     */
    boolean onEvent(FilesystemEvent event) throws InterruptedException;

    /** The watch failed and has ended; {@code message} is for the client. */
    void onFailure(String message);
  }

  private final Path root;
  private final boolean recursive;
  private final boolean includeEntry;
  private final UserDirectory users;
  private final Listener listener;
  private final Inotify inotify;

  /** Watched directories by watch descriptor; changed by the watch thread only (after start). */
  private final Map<Integer, Path> directories = new ConcurrentHashMap<>();

  private final Thread thread;
  private volatile boolean closed;

  private DirectoryWatch(
      Path root,
      boolean recursive,
      boolean includeEntry,
      UserDirectory users,
      Listener listener,
      Inotify inotify) {
    this.root = root;
    this.recursive = recursive;
    this.includeEntry = includeEntry;
    this.users = users;
    this.listener = listener;
    this.inotify = inotify;
    this.thread = Thread.ofPlatform().daemon().name("watch " + root).unstarted(this::readEvents);
  }

  /**
   * Starts watching {@code root}, an existing directory. Events that happen once this returns are
   * reported.
   *
   * @throws IOException when inotify cannot be set up (e.g. the watch or instance limit)
   */
  static DirectoryWatch start(
      Path root, boolean recursive, boolean includeEntry, UserDirectory users, Listener listener)
      throws IOException {
    Inotify inotify = Inotify.open();
    DirectoryWatch watch =
        new DirectoryWatch(root, recursive, includeEntry, users, listener, inotify);
    try {
      watch.directories.put(inotify.addWatch(root, EVENTS | IN_ONLYDIR), root);
      if (recursive) {
        watch.watchChildren(root, false);
      }
    } catch (IOException | RuntimeException e) {
      inotify.close();
      throw e;
    } catch (InterruptedException e) {
      inotify.close();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while adding watches", e);
    }
    watch.thread.start();
    return watch;
  }

  /** The number of directories watched (for tests). */
  int watchedDirectories() {
    return directories.size();
  }

  @Override
  public void close() {
    closed = true;
    inotify.close();
    thread.interrupt();
    if (Thread.currentThread() != thread) {
      try {
        if (!thread.join(CLOSE_TIMEOUT)) {
          LOG.log(Level.WARNING, "watch thread of {0} did not end", root);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void readEvents() {
    try {
      while (!closed) {
        List<Inotify.Event> events = inotify.read();
        if (events.isEmpty()) {
          return;
        }
        for (Inotify.Event event : events) {
          if (!handle(event)) {
            return;
          }
        }
      }
    } catch (InterruptedException e) {
      // closed while handing over an event
    } catch (IOException | RuntimeException e) {
      if (!closed) {
        LOG.log(Level.WARNING, "watch of " + root + " failed", e);
        listener.onFailure("watcher error: " + FilesystemErrors.reason(asIo(e)));
      }
    } finally {
      inotify.close();
    }
  }

  private static IOException asIo(Exception e) {
    return e instanceof IOException io ? io : new IOException(e.toString(), e);
  }

  /** Handles one kernel event; false ends the watch. */
  private boolean handle(Inotify.Event event) throws IOException, InterruptedException {
    if (event.has(IN_Q_OVERFLOW)) {
      listener.onFailure("watcher error: the kernel's event queue overflowed, events were lost");
      return false;
    }
    Path directory = directories.get(event.wd());
    if (directory == null) {
      return true; // a watch already dropped
    }
    if (event.has(IN_IGNORED) || event.has(IN_UNMOUNT)) {
      directories.remove(event.wd());
      return true;
    }
    boolean self = event.name().isEmpty();
    Path path = self ? directory : directory.resolve(event.name());
    if (event.has(IN_DELETE_SELF)) {
      directories.remove(event.wd());
      if (!directory.equals(root)) {
        return true; // the parent's IN_DELETE reports it
      }
    }
    if (event.has(IN_MOVE_SELF)) {
      if (recursive) {
        return true; // the parent reports the move; fsnotify ignores it for recursive watches
      }
      inotify.removeWatch(event.wd());
      directories.remove(event.wd());
    }

    for (EventType type : types(event)) {
      if (!emit(type, path)) {
        return false;
      }
    }

    if (recursive && !self && event.has(IN_ISDIR)) {
      if (event.has(IN_MOVED_FROM) || event.has(IN_DELETE)) {
        forgetTree(path, event.has(IN_MOVED_FROM));
      }
      if (event.has(IN_CREATE) || event.has(IN_MOVED_TO)) {
        try {
          watchTree(path);
        } catch (IOException e) {
          listener.onFailure(
              "watcher error: cannot watch '" + path + "': " + FilesystemErrors.reason(e));
          return false;
        }
      }
    }
    return true;
  }

  private static List<EventType> types(Inotify.Event event) {
    List<EventType> types = new ArrayList<>(2);
    if (event.has(IN_CREATE) || event.has(IN_MOVED_TO)) {
      types.add(EventType.EVENT_TYPE_CREATE);
    }
    if (event.has(IN_MOVED_FROM) || event.has(IN_MOVE_SELF)) {
      types.add(EventType.EVENT_TYPE_RENAME);
    }
    if (event.has(IN_ATTRIB)) {
      types.add(EventType.EVENT_TYPE_CHMOD);
    }
    if (event.has(IN_MODIFY)) {
      types.add(EventType.EVENT_TYPE_WRITE);
    }
    if (event.has(IN_DELETE) || event.has(IN_DELETE_SELF)) {
      types.add(EventType.EVENT_TYPE_REMOVE);
    }
    return types;
  }

  private boolean emit(EventType type, Path path) throws InterruptedException {
    Path relative = root.relativize(path);
    FilesystemEvent.Builder event =
        FilesystemEvent.newBuilder()
            .setName(relative.toString().isEmpty() ? "." : relative.toString())
            .setType(type);
    if (includeEntry
        && (type == EventType.EVENT_TYPE_CREATE
            || type == EventType.EVENT_TYPE_WRITE
            || type == EventType.EVENT_TYPE_CHMOD)) {
      try {
        event.setEntry(new EntryInfos(users).of(path));
      } catch (IOException e) {
        // gone again already: the event goes without its entry
      }
    }
    return listener.onEvent(event.build());
  }

  /** Watches a directory that appeared, and reports everything already in it as created. */
  private void watchTree(Path directory) throws IOException, InterruptedException {
    try {
      directories.put(inotify.addWatch(directory, EVENTS | IN_ONLYDIR | IN_DONT_FOLLOW), directory);
    } catch (NoSuchFileException | NotDirectoryException e) {
      return; // gone (or replaced) again
    }
    watchChildren(directory, true);
  }

  private void watchChildren(Path directory, boolean reportCreated)
      throws IOException, InterruptedException {
    List<Path> children = new ArrayList<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(directory)) {
      stream.forEach(children::add);
    } catch (NoSuchFileException | NotDirectoryException e) {
      return;
    }
    children.sort(null);
    for (Path child : children) {
      if (reportCreated && !emit(EventType.EVENT_TYPE_CREATE, child)) {
        return;
      }
      if (isDirectory(child)) {
        try {
          directories.put(inotify.addWatch(child, EVENTS | IN_ONLYDIR | IN_DONT_FOLLOW), child);
        } catch (NoSuchFileException | NotDirectoryException e) {
          continue;
        }
        watchChildren(child, reportCreated);
      }
    }
  }

  private static boolean isDirectory(Path path) {
    try {
      return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
          .isDirectory();
    } catch (IOException e) {
      return false;
    }
  }

  /** Stops watching {@code directory} and everything below it. */
  private void forgetTree(Path directory, boolean removeFromKernel) {
    for (Iterator<Map.Entry<Integer, Path>> it = directories.entrySet().iterator();
        it.hasNext(); ) {
      Map.Entry<Integer, Path> entry = it.next();
      if (entry.getValue().startsWith(directory)) {
        if (removeFromKernel) {
          inotify.removeWatch(entry.getKey());
        }
        it.remove();
      }
    }
  }
}
