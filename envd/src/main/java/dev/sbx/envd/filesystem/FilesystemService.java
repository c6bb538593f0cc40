package dev.sbx.envd.filesystem;

import static java.util.Objects.requireNonNull;

import dev.sbx.connect.CallContext;
import dev.sbx.connect.ConnectCode;
import dev.sbx.connect.ConnectException;
import dev.sbx.connect.ResponseStream;
import dev.sbx.connect.ServiceDefinition;
import dev.sbx.envd.CallHeaders;
import dev.sbx.envd.SandboxSettings;
import dev.sbx.envd.linux.LinuxFiles;
import dev.sbx.envd.user.OwnedPaths;
import dev.sbx.envd.user.PathResolver;
import dev.sbx.envd.user.RequestUsers;
import dev.sbx.envd.user.SandboxUser;
import dev.sbx.proto.filesystem.CreateWatcherRequest;
import dev.sbx.proto.filesystem.CreateWatcherResponse;
import dev.sbx.proto.filesystem.EntryInfo;
import dev.sbx.proto.filesystem.GetWatcherEventsRequest;
import dev.sbx.proto.filesystem.GetWatcherEventsResponse;
import dev.sbx.proto.filesystem.ListDirRequest;
import dev.sbx.proto.filesystem.ListDirResponse;
import dev.sbx.proto.filesystem.MakeDirRequest;
import dev.sbx.proto.filesystem.MakeDirResponse;
import dev.sbx.proto.filesystem.MoveRequest;
import dev.sbx.proto.filesystem.MoveResponse;
import dev.sbx.proto.filesystem.RemoveRequest;
import dev.sbx.proto.filesystem.RemoveResponse;
import dev.sbx.proto.filesystem.RemoveWatcherRequest;
import dev.sbx.proto.filesystem.RemoveWatcherResponse;
import dev.sbx.proto.filesystem.StatRequest;
import dev.sbx.proto.filesystem.StatResponse;
import dev.sbx.proto.filesystem.WatchDirRequest;
import dev.sbx.proto.filesystem.WatchDirResponse;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * envd's {@code filesystem.Filesystem} service. Every call runs as root, acts for the user of its
 * {@code Authorization} header (the default user without one) and resolves paths with E2B's rules
 * ({@link PathResolver}); directories it creates belong to that user.
 *
 * <p>Watches: {@code WatchDir} streams events until the client goes away or its {@code
 * Connect-Timeout-Ms} deadline passes, with a keepalive after {@code Keepalive-Ping-Interval}
 * seconds (default 90) without events. {@code CreateWatcher} buffers up to {@value
 * #MAX_BUFFERED_EVENTS} events for {@code GetWatcherEvents}; a watcher whose buffer overflows stops
 * watching and answers every later {@code GetWatcherEvents} with {@code internal} (events were
 * lost; the client should start over), until {@code RemoveWatcher}. A path on a network filesystem
 * (NFS, CIFS/SMB, FUSE; as in E2B's envd, 9p is not counted, so gVisor's rootfs can be watched) is
 * refused unless {@code allow_network_mounts} is set: inotify does not see changes made by other
 * machines there.
 */
public final class FilesystemService implements AutoCloseable {
  /** The most events a polling watcher keeps between two {@code GetWatcherEvents}. */
  public static final int MAX_BUFFERED_EVENTS = 10_000;

  /** How often a waiting {@code WatchDir} checks whether its client is still there. */
  private static final Duration CANCEL_CHECK = Duration.ofMillis(250);

  /** How many events a {@code WatchDir} holds for a slow client before the kernel queues. */
  private static final int STREAM_QUEUE = 1024;

  /** statfs {@code f_type} of NFS, CIFS, SMB, SMB2 and FUSE ({@code linux/magic.h}). */
  private static final Set<Long> NETWORK_FILESYSTEMS =
      Set.of(0x6969L, 0xFF534D42L, 0x517BL, 0xFE534D42L, 0x65735546L);

  private static final char[] ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789".toCharArray();

  private final SandboxSettings settings;
  private final RequestUsers users;
  private final Map<String, PolledWatch> watchers = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();

  public FilesystemService(SandboxSettings settings, RequestUsers users) {
    this.settings = requireNonNull(settings, "settings");
    this.users = requireNonNull(users, "users");
  }

  public ServiceDefinition definition() {
    return ServiceDefinition.builder("filesystem.Filesystem")
        .unary("Stat", StatRequest.getDefaultInstance(), this::stat)
        .unary("MakeDir", MakeDirRequest.getDefaultInstance(), this::makeDir)
        .unary("Move", MoveRequest.getDefaultInstance(), this::move)
        .unary("ListDir", ListDirRequest.getDefaultInstance(), this::listDir)
        .unary("Remove", RemoveRequest.getDefaultInstance(), this::remove)
        .serverStreaming("WatchDir", WatchDirRequest.getDefaultInstance(), this::watchDir)
        .unary("CreateWatcher", CreateWatcherRequest.getDefaultInstance(), this::createWatcher)
        .unary(
            "GetWatcherEvents",
            GetWatcherEventsRequest.getDefaultInstance(),
            this::getWatcherEvents)
        .unary("RemoveWatcher", RemoveWatcherRequest.getDefaultInstance(), this::removeWatcher)
        .build();
  }

  StatResponse stat(StatRequest request, CallContext context) {
    Path path = resolve(request.getPath(), user(context));
    try {
      return StatResponse.newBuilder().setEntry(entries().of(path)).build();
    } catch (IOException e) {
      throw FilesystemErrors.of(e, "reading", path);
    }
  }

  MakeDirResponse makeDir(MakeDirRequest request, CallContext context) {
    SandboxUser user = user(context);
    Path dir = resolve(request.getPath(), user);
    try {
      BasicFileAttributes existing = Files.readAttributes(dir, BasicFileAttributes.class);
      if (existing.isDirectory()) {
        throw new ConnectException(ConnectCode.ALREADY_EXISTS, "directory already exists: " + dir);
      }
      throw new ConnectException(
          ConnectCode.INVALID_ARGUMENT, "path already exists but it is not a directory: " + dir);
    } catch (NoSuchFileException e) {
      // to be created
    } catch (IOException e) {
      throw FilesystemErrors.of(e, "reading", dir);
    }
    try {
      OwnedPaths.createDirectories(dir, user);
      return MakeDirResponse.newBuilder().setEntry(entries().of(dir)).build();
    } catch (FileAlreadyExistsException e) {
      throw FilesystemErrors.blockedByFile(dir, e);
    } catch (IOException e) {
      throw FilesystemErrors.of(e, "creating directory", dir);
    }
  }

  MoveResponse move(MoveRequest request, CallContext context) {
    SandboxUser user = user(context);
    Path source = resolve(request.getSource(), user);
    Path destination = resolve(request.getDestination(), user);
    if (!Files.exists(source, LinkOption.NOFOLLOW_LINKS)) {
      throw FilesystemErrors.notFound(source);
    }
    Path parent = destination.getParent();
    if (parent != null) {
      try {
        OwnedPaths.createDirectories(parent, user);
      } catch (FileAlreadyExistsException e) {
        throw FilesystemErrors.blockedByFile(parent, e);
      } catch (IOException e) {
        throw FilesystemErrors.of(e, "creating directory", parent);
      }
    }
    try {
      // rename(2), as Go's os.Rename: replaces an existing file, fails across filesystems
      Files.move(source, destination, StandardCopyOption.ATOMIC_MOVE);
    } catch (NoSuchFileException e) {
      throw FilesystemErrors.notFound(source);
    } catch (AtomicMoveNotSupportedException e) {
      throw new ConnectException(
          ConnectCode.INTERNAL,
          "error renaming '"
              + source
              + "' to '"
              + destination
              + "': source and destination are on different filesystems");
    } catch (IOException e) {
      ConnectException mapped = FilesystemErrors.of(e, "renaming", source);
      throw new ConnectException(
          mapped.code(),
          "error renaming '" + source + "' to '" + destination + "': " + FilesystemErrors.reason(e),
          e);
    }
    try {
      return MoveResponse.newBuilder().setEntry(entries().of(destination)).build();
    } catch (IOException e) {
      throw FilesystemErrors.of(e, "reading", destination);
    }
  }

  ListDirResponse listDir(ListDirRequest request, CallContext context) {
    int depth = request.getDepth() == 0 ? 1 : request.getDepth();
    if (depth < 0) {
      depth = Integer.MAX_VALUE; // uint32 above 2^31-1: unlimited for all practical purposes
    }
    Path dir = resolve(request.getPath(), user(context));
    Path real;
    try {
      real = dir.toRealPath();
    } catch (IOException e) {
      throw FilesystemErrors.of(e, "resolving", dir);
    }
    if (!Files.isDirectory(real)) {
      throw FilesystemErrors.notADirectory(dir);
    }
    List<EntryInfo> entries = new ArrayList<>();
    try {
      walk(dir, 1, depth, entries(), entries);
    } catch (IOException e) {
      throw new ConnectException(
          ConnectCode.INTERNAL,
          "error reading directory " + dir + ": " + FilesystemErrors.reason(e),
          e);
    }
    return ListDirResponse.newBuilder().addAllEntries(entries).build();
  }

  /** Go's WalkDir order: a directory's entries by name, each followed by its own (not symlinks). */
  private static void walk(
      Path dir, int level, int depth, EntryInfos infos, List<EntryInfo> entries)
      throws IOException {
    List<Path> children = new ArrayList<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
      stream.forEach(children::add);
    } catch (NoSuchFileException e) {
      if (level == 1) {
        throw e;
      }
      return; // removed while walking
    }
    children.sort(null);
    for (Path child : children) {
      EntryInfos.Described described;
      try {
        described = infos.describe(child);
      } catch (NoSuchFileException e) {
        continue; // removed while walking
      }
      entries.add(described.info());
      if (level < depth && described.isDirectory()) {
        walk(child, level + 1, depth, infos, entries);
      }
    }
  }

  RemoveResponse remove(RemoveRequest request, CallContext context) {
    Path path = resolve(request.getPath(), user(context));
    try {
      Files.walkFileTree(
          path,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.deleteIfExists(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
              if (e instanceof NoSuchFileException) {
                return FileVisitResult.CONTINUE;
              }
              throw e;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, @Nullable IOException e)
                throws IOException {
              if (e != null && !(e instanceof NoSuchFileException)) {
                throw e;
              }
              Files.deleteIfExists(dir);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      throw FilesystemErrors.of(e, "removing", path);
    }
    return RemoveResponse.getDefaultInstance();
  }

  void watchDir(
      WatchDirRequest request, CallContext context, ResponseStream<WatchDirResponse> responses) {
    Path root = watchedDirectory(request.getPath(), request.getAllowNetworkMounts(), user(context));
    Duration keepalive = CallHeaders.keepaliveInterval(context);
    long deadline = CallHeaders.deadline(context);
    StreamedEvents events = new StreamedEvents(STREAM_QUEUE);
    try (DirectoryWatch watch =
        startWatch(root, request.getRecursive(), request.getIncludeEntry(), events)) {
      responses.send(
          WatchDirResponse.newBuilder()
              .setStart(WatchDirResponse.StartEvent.getDefaultInstance())
              .build());
      long lastSent = System.nanoTime();
      while (!responses.isCancelled()) {
        long now = System.nanoTime();
        if (now - deadline >= 0) {
          throw new ConnectException(ConnectCode.DEADLINE_EXCEEDED, "watch deadline exceeded");
        }
        long untilKeepalive = lastSent + keepalive.toNanos() - now;
        if (untilKeepalive <= 0) {
          responses.send(
              WatchDirResponse.newBuilder()
                  .setKeepalive(WatchDirResponse.KeepAlive.getDefaultInstance())
                  .build());
          lastSent = System.nanoTime();
          continue;
        }
        long wait = Math.min(Math.min(untilKeepalive, deadline - now), CANCEL_CHECK.toNanos());
        StreamedEvents.Item item = events.poll(wait, TimeUnit.NANOSECONDS);
        if (item == null) {
          continue;
        }
        if (item.failure() != null) {
          throw new ConnectException(ConnectCode.INTERNAL, item.failure());
        }
        responses.send(
            WatchDirResponse.newBuilder().setFilesystem(requireNonNull(item.event())).build());
        lastSent = System.nanoTime();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ConnectException(ConnectCode.CANCELED, "watch interrupted");
    }
  }

  CreateWatcherResponse createWatcher(CreateWatcherRequest request, CallContext context) {
    Path root = watchedDirectory(request.getPath(), request.getAllowNetworkMounts(), user(context));
    BufferedEvents buffer = new BufferedEvents(MAX_BUFFERED_EVENTS);
    DirectoryWatch watch =
        startWatch(root, request.getRecursive(), request.getIncludeEntry(), buffer);
    String id = newWatcherId();
    watchers.put(id, new PolledWatch(watch, buffer));
    return CreateWatcherResponse.newBuilder().setWatcherId(id).build();
  }

  GetWatcherEventsResponse getWatcherEvents(GetWatcherEventsRequest request, CallContext context) {
    PolledWatch watcher = watcher(request.getWatcherId());
    return GetWatcherEventsResponse.newBuilder().addAllEvents(watcher.buffer().drain()).build();
  }

  RemoveWatcherResponse removeWatcher(RemoveWatcherRequest request, CallContext context) {
    PolledWatch watcher = watchers.remove(request.getWatcherId());
    if (watcher == null) {
      throw watcherNotFound(request.getWatcherId());
    }
    watcher.watch().close();
    return RemoveWatcherResponse.getDefaultInstance();
  }

  /** The number of polling watchers (for tests). */
  int watcherCount() {
    return watchers.size();
  }

  /** Ends every polling watcher. */
  @Override
  public void close() {
    for (String id : List.copyOf(watchers.keySet())) {
      PolledWatch watcher = watchers.remove(id);
      if (watcher != null) {
        watcher.watch().close();
      }
    }
  }

  private record PolledWatch(DirectoryWatch watch, BufferedEvents buffer) {}

  private PolledWatch watcher(String id) {
    PolledWatch watcher = watchers.get(id);
    if (watcher == null) {
      throw watcherNotFound(id);
    }
    return watcher;
  }

  private static ConnectException watcherNotFound(String id) {
    return new ConnectException(ConnectCode.NOT_FOUND, "watcher with id " + id + " not found");
  }

  private String newWatcherId() {
    char[] id = new char[21];
    id[0] = 'w';
    for (int i = 1; i < id.length; i++) {
      id[i] = ID_ALPHABET[random.nextInt(ID_ALPHABET.length)];
    }
    return new String(id);
  }

  private DirectoryWatch startWatch(
      Path root, boolean recursive, boolean includeEntry, DirectoryWatch.Listener listener) {
    try {
      return DirectoryWatch.start(root, recursive, includeEntry, users.directory(), listener);
    } catch (NoSuchFileException e) {
      throw FilesystemErrors.notFound(root);
    } catch (IOException e) {
      throw new ConnectException(
          ConnectCode.INTERNAL,
          "error adding path " + root + " to watcher: " + FilesystemErrors.reason(e),
          e);
    }
  }

  /** The directory a watch request names, checked: exists, is a directory, is local. */
  private Path watchedDirectory(String requested, boolean allowNetworkMounts, SandboxUser user) {
    Path path = resolve(requested, user);
    try {
      if (!Files.readAttributes(path, BasicFileAttributes.class).isDirectory()) {
        throw FilesystemErrors.notADirectory(path);
      }
      if (!allowNetworkMounts && isNetworkFilesystem(LinuxFiles.filesystemType(path))) {
        throw new ConnectException(
            ConnectCode.INVALID_ARGUMENT, "cannot watch path on network filesystem: " + path);
      }
    } catch (IOException e) {
      throw FilesystemErrors.of(e, "reading", path);
    }
    return path;
  }

  static boolean isNetworkFilesystem(long statfsType) {
    return NETWORK_FILESYSTEMS.contains(statfsType & 0xFFFFFFFFL);
  }

  private SandboxUser user(CallContext context) {
    return CallHeaders.user(users, context);
  }

  private Path resolve(String path, SandboxUser user) {
    try {
      return PathResolver.resolve(path, user, settings.current().defaultWorkdir());
    } catch (IllegalArgumentException e) {
      throw new ConnectException(ConnectCode.INVALID_ARGUMENT, String.valueOf(e.getMessage()));
    }
  }

  private EntryInfos entries() {
    return new EntryInfos(users.directory());
  }
}
