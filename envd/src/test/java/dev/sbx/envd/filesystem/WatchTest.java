package dev.sbx.envd.filesystem;

import static dev.sbx.envd.ConnectAssertions.assertConnectError;
import static dev.sbx.proto.filesystem.EventType.EVENT_TYPE_CHMOD;
import static dev.sbx.proto.filesystem.EventType.EVENT_TYPE_CREATE;
import static dev.sbx.proto.filesystem.EventType.EVENT_TYPE_REMOVE;
import static dev.sbx.proto.filesystem.EventType.EVENT_TYPE_RENAME;
import static dev.sbx.proto.filesystem.EventType.EVENT_TYPE_WRITE;
import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sbx.connect.CallContext;
import dev.sbx.connect.ConnectCode;
import dev.sbx.connect.ConnectException;
import dev.sbx.envd.CallHeaders;
import dev.sbx.envd.FakeCallContext;
import dev.sbx.envd.FakeResponseStream;
import dev.sbx.envd.OpenDescriptors;
import dev.sbx.envd.RunningStream;
import dev.sbx.envd.SandboxSettings;
import dev.sbx.envd.user.RequestUsers;
import dev.sbx.envd.user.UserDirectory;
import dev.sbx.proto.filesystem.CreateWatcherRequest;
import dev.sbx.proto.filesystem.EventType;
import dev.sbx.proto.filesystem.FileType;
import dev.sbx.proto.filesystem.FilesystemEvent;
import dev.sbx.proto.filesystem.GetWatcherEventsRequest;
import dev.sbx.proto.filesystem.RemoveWatcherRequest;
import dev.sbx.proto.filesystem.WatchDirRequest;
import dev.sbx.proto.filesystem.WatchDirResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WatchTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir Path dir;

  private final SandboxSettings settings = new SandboxSettings(Map.of());
  private final FilesystemService service =
      new FilesystemService(settings, new RequestUsers(UserDirectory.system(), settings));
  private final List<RunningWatch> running = new ArrayList<>();

  @AfterEach
  void stopWatches() throws InterruptedException {
    for (RunningWatch watch : running) {
      watch.stop();
    }
    service.close();
  }

  /** A WatchDir call running on its own virtual thread, as the Connect server runs it. */
  private final class RunningWatch {
    final RunningStream<WatchDirResponse> call;
    final FakeResponseStream<WatchDirResponse> stream;
    final List<FilesystemEvent> seen = new ArrayList<>();

    RunningWatch(WatchDirRequest request, CallContext context) {
      call = RunningStream.start(s -> service.watchDir(request, context, s));
      stream = call.stream();
      running.add(this);
    }

    /** Reads filesystem events until one matches; fails when none does in time. */
    FilesystemEvent until(Predicate<FilesystemEvent> wanted) throws InterruptedException {
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (System.nanoTime() < deadline) {
        WatchDirResponse response = stream.next(Duration.ofMillis(100));
        if (response == null || !response.hasFilesystem()) {
          continue;
        }
        seen.add(response.getFilesystem());
        if (wanted.test(response.getFilesystem())) {
          return response.getFilesystem();
        }
      }
      throw new AssertionError("no such event; saw " + seen);
    }

    FilesystemEvent until(EventType type, String name) throws InterruptedException {
      return until(e -> e.getType() == type && e.getName().equals(name));
    }

    void stop() throws InterruptedException {
      stream.cancel();
      assertThat(call.awaitEnd(WAIT)).as("watch handler ends once the client is gone").isTrue();
    }
  }

  private RunningWatch watch(WatchDirRequest request) throws InterruptedException {
    return watch(request, FakeCallContext.create());
  }

  private RunningWatch watch(WatchDirRequest request, CallContext context)
      throws InterruptedException {
    RunningWatch watch = new RunningWatch(request, context);
    WatchDirResponse first = requireNonNull(watch.stream.next(WAIT), "first message");
    assertThat(first.hasStart()).as("first message is start").isTrue();
    return watch;
  }

  private static WatchDirRequest.Builder request(Path path) {
    return WatchDirRequest.newBuilder().setPath(path.toString());
  }

  private static boolean named(FilesystemEvent event, EventType type, String name) {
    return event.getType() == type && event.getName().equals(name);
  }

  @Test
  void reportsCreateWriteChmodRenameAndRemove() throws Exception {
    RunningWatch watch = watch(request(dir).build());

    Path a = Files.writeString(dir.resolve("a.txt"), "hello");
    watch.until(EVENT_TYPE_WRITE, "a.txt");
    Files.setPosixFilePermissions(a, PosixFilePermissions.fromString("rwx------"));
    watch.until(EVENT_TYPE_CHMOD, "a.txt");
    Files.move(a, dir.resolve("b.txt"));
    watch.until(EVENT_TYPE_CREATE, "b.txt");
    Files.delete(dir.resolve("b.txt"));
    watch.until(EVENT_TYPE_REMOVE, "b.txt");

    List<String> order =
        watch.seen.stream().map(e -> e.getType() + " " + e.getName()).distinct().toList();
    assertThat(order)
        .containsSubsequence(
            "EVENT_TYPE_CREATE a.txt",
            "EVENT_TYPE_WRITE a.txt",
            "EVENT_TYPE_CHMOD a.txt",
            "EVENT_TYPE_RENAME a.txt",
            "EVENT_TYPE_CREATE b.txt",
            "EVENT_TYPE_REMOVE b.txt");
    assertThat(watch.seen).noneMatch(FilesystemEvent::hasEntry);
    // one write(2) is one WRITE: IN_CLOSE_WRITE is not reported on top of IN_MODIFY
    assertThat(watch.seen.stream().filter(e -> named(e, EVENT_TYPE_WRITE, "a.txt"))).hasSize(1);
  }

  @Test
  void notRecursiveIgnoresSubdirectories() throws Exception {
    Path sub = Files.createDirectory(dir.resolve("sub"));
    RunningWatch watch = watch(request(dir).build());

    Files.writeString(sub.resolve("inner.txt"), "x");
    Files.writeString(dir.resolve("marker"), "x");
    watch.until(EVENT_TYPE_CREATE, "marker");

    assertThat(watch.seen).noneMatch(e -> e.getName().startsWith("sub/"));
  }

  @Test
  void recursiveWatchesExistingAndNewSubdirectories() throws Exception {
    Files.createDirectories(dir.resolve("pre/deeper"));
    RunningWatch watch = watch(request(dir).setRecursive(true).build());

    Files.writeString(dir.resolve("pre/deeper/f.txt"), "x");
    watch.until(EVENT_TYPE_CREATE, "pre/deeper/f.txt");

    Files.createDirectory(dir.resolve("later"));
    watch.until(EVENT_TYPE_CREATE, "later");
    Files.writeString(dir.resolve("later/g.txt"), "x");
    watch.until(EVENT_TYPE_CREATE, "later/g.txt");

    // mkdir -p: the levels created before their watch existed are reported too
    Files.createDirectories(dir.resolve("a/b/c"));
    watch.until(EVENT_TYPE_CREATE, "a");
    watch.until(EVENT_TYPE_CREATE, "a/b/c");
    Files.writeString(dir.resolve("a/b/c/h.txt"), "x");
    watch.until(EVENT_TYPE_CREATE, "a/b/c/h.txt");
  }

  @Test
  void recursiveFollowsDirectoriesMovedInAndOut(@TempDir Path outside) throws Exception {
    Path incoming = Files.createDirectories(outside.resolve("incoming"));
    Files.writeString(incoming.resolve("inside.txt"), "x");
    Files.createDirectory(dir.resolve("leaving"));
    RunningWatch watch = watch(request(dir).setRecursive(true).build());

    Files.move(incoming, dir.resolve("moved"));
    watch.until(EVENT_TYPE_CREATE, "moved");
    watch.until(EVENT_TYPE_CREATE, "moved/inside.txt");
    Files.writeString(dir.resolve("moved/new.txt"), "x");
    watch.until(EVENT_TYPE_CREATE, "moved/new.txt");

    Path gone = outside.resolve("gone");
    Files.move(dir.resolve("leaving"), gone);
    watch.until(EVENT_TYPE_RENAME, "leaving");
    Files.writeString(gone.resolve("after.txt"), "x");
    Files.writeString(dir.resolve("marker"), "x");
    watch.until(EVENT_TYPE_CREATE, "marker");
    assertThat(watch.seen).noneMatch(e -> e.getName().contains("after.txt"));

    // removing a watched subdirectory reports it once, from its parent
    Files.createDirectories(dir.resolve("doomed/sub"));
    watch.until(EVENT_TYPE_CREATE, "doomed/sub");
    Files.delete(dir.resolve("doomed/sub"));
    Files.delete(dir.resolve("doomed"));
    watch.until(EVENT_TYPE_REMOVE, "doomed");
    assertThat(watch.seen.stream().filter(e -> named(e, EVENT_TYPE_REMOVE, "doomed/sub")))
        .hasSize(1);
  }

  @Test
  void includeEntryDescribesCreateWriteAndChmod() throws Exception {
    RunningWatch watch = watch(request(dir).setIncludeEntry(true).build());

    Path file = Files.writeString(dir.resolve("e.txt"), "abc");
    FilesystemEvent created = watch.until(EVENT_TYPE_CREATE, "e.txt");
    assertThat(created.hasEntry()).isTrue();
    assertThat(created.getEntry().getPath()).isEqualTo(file.toString());
    assertThat(created.getEntry().getType()).isEqualTo(FileType.FILE_TYPE_FILE);

    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    FilesystemEvent chmod = watch.until(EVENT_TYPE_CHMOD, "e.txt");
    assertThat(chmod.getEntry().getMode()).isEqualTo(0600);

    Files.delete(file);
    assertThat(watch.until(EVENT_TYPE_REMOVE, "e.txt").hasEntry()).isFalse();
  }

  @Test
  void theWatchedDirectoryRemovedIsReportedAsDot() throws Exception {
    Path root = Files.createDirectory(dir.resolve("root"));
    RunningWatch watch = watch(request(root).build());
    Files.delete(root);
    watch.until(EVENT_TYPE_REMOVE, ".");
  }

  @Test
  void keepaliveWhileIdle() throws Exception {
    RunningWatch watch =
        watch(
            request(dir).build(), FakeCallContext.create().header("Keepalive-Ping-Interval", "1"));
    long started = System.nanoTime();
    WatchDirResponse next = requireNonNull(watch.stream.next(WAIT), "no keepalive");
    assertThat(next.hasKeepalive()).isTrue();
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThan(Duration.ofMillis(800));
  }

  @Test
  void keepaliveIntervalHeader() {
    assertThat(CallHeaders.keepaliveInterval(FakeCallContext.create()))
        .isEqualTo(Duration.ofSeconds(90));
    assertThat(
            CallHeaders.keepaliveInterval(
                FakeCallContext.create().header("keepalive-ping-interval", "50")))
        .isEqualTo(Duration.ofSeconds(50));
    assertThat(
            CallHeaders.keepaliveInterval(
                FakeCallContext.create().header("Keepalive-Ping-Interval", "soon")))
        .isEqualTo(Duration.ofSeconds(90));
  }

  @Test
  void theWatchEndsAtTheDeadline() throws Exception {
    RunningWatch watch =
        watch(request(dir).build(), FakeCallContext.create().timeout(Duration.ofMillis(300)));
    assertThat(watch.call.awaitEnd(WAIT)).isTrue();
    assertThat(watch.call.failure())
        .isInstanceOfSatisfying(
            ConnectException.class,
            e -> assertThat(e.code()).isEqualTo(ConnectCode.DEADLINE_EXCEEDED));
  }

  @Test
  void watchErrors() throws IOException {
    Path missing = dir.resolve("missing");
    FakeResponseStream<WatchDirResponse> stream = new FakeResponseStream<>();
    assertConnectError(
        () -> service.watchDir(request(missing).build(), FakeCallContext.create(), stream),
        ConnectCode.NOT_FOUND,
        "path '" + missing + "' does not exist");
    Path file = Files.writeString(dir.resolve("file"), "x");
    assertConnectError(
        () -> service.watchDir(request(file).build(), FakeCallContext.create(), stream),
        ConnectCode.INVALID_ARGUMENT,
        "path is not a directory: " + file);
    assertConnectError(
        () ->
            service.createWatcher(
                CreateWatcherRequest.newBuilder().setPath(missing.toString()).build(),
                FakeCallContext.create()),
        ConnectCode.NOT_FOUND,
        "does not exist");
    assertConnectError(
        () ->
            service.watchDir(
                request(dir).build(), FakeCallContext.create().user("nobody-xyz"), stream),
        ConnectCode.UNAUTHENTICATED,
        "invalid username: 'nobody-xyz'");
  }

  @Test
  void networkFilesystems() {
    assertThat(FilesystemService.isNetworkFilesystem(0x6969)).as("nfs").isTrue();
    assertThat(FilesystemService.isNetworkFilesystem(0xFF534D42L)).as("cifs").isTrue();
    assertThat(FilesystemService.isNetworkFilesystem(0xFE534D42L)).as("smb2").isTrue();
    assertThat(FilesystemService.isNetworkFilesystem(0x517B)).as("smb").isTrue();
    assertThat(FilesystemService.isNetworkFilesystem(0x65735546)).as("fuse").isTrue();
    assertThat(FilesystemService.isNetworkFilesystem(0xEF53)).as("ext4").isFalse();
    assertThat(FilesystemService.isNetworkFilesystem(0x01021994)).as("tmpfs").isFalse();
    assertThat(FilesystemService.isNetworkFilesystem(0x01021997)).as("9p").isFalse();
  }

  @Test
  void pollingWatcher() throws Exception {
    String id =
        service
            .createWatcher(
                CreateWatcherRequest.newBuilder()
                    .setPath(dir.toString())
                    .setRecursive(true)
                    .setIncludeEntry(true)
                    .build(),
                FakeCallContext.create())
            .getWatcherId();
    assertThat(id).startsWith("w");
    assertThat(service.watcherCount()).isEqualTo(1);

    List<FilesystemEvent> all = new ArrayList<>();
    Files.writeString(dir.resolve("top.txt"), "x");
    pollUntil(id, all, e -> named(e, EVENT_TYPE_CREATE, "top.txt"));
    Files.createDirectory(dir.resolve("sub"));
    pollUntil(id, all, e -> named(e, EVENT_TYPE_CREATE, "sub"));
    Files.writeString(dir.resolve("sub/p.txt"), "x");
    pollUntil(id, all, e -> named(e, EVENT_TYPE_CREATE, "sub/p.txt"));
    Files.writeString(dir.resolve("last.txt"), "x");
    pollUntil(id, all, e -> named(e, EVENT_TYPE_CREATE, "last.txt"));

    assertThat(all.stream().filter(e -> named(e, EVENT_TYPE_CREATE, "top.txt")))
        .as("drained events are not returned twice")
        .hasSize(1);
    assertThat(all)
        .filteredOn(e -> e.getType() == EVENT_TYPE_CREATE)
        .allMatch(FilesystemEvent::hasEntry);

    service.removeWatcher(
        RemoveWatcherRequest.newBuilder().setWatcherId(id).build(), FakeCallContext.create());
    assertThat(service.watcherCount()).isZero();
    assertConnectError(
        () ->
            service.getWatcherEvents(
                GetWatcherEventsRequest.newBuilder().setWatcherId(id).build(),
                FakeCallContext.create()),
        ConnectCode.NOT_FOUND,
        "watcher with id " + id + " not found");
    assertConnectError(
        () ->
            service.removeWatcher(
                RemoveWatcherRequest.newBuilder().setWatcherId("wnope").build(),
                FakeCallContext.create()),
        ConnectCode.NOT_FOUND,
        "watcher with id wnope not found");
  }

  @Test
  void aFullBufferEndsTheWatcherWithAnError() {
    BufferedEvents buffer = new BufferedEvents(2);
    FilesystemEvent event =
        FilesystemEvent.newBuilder().setName("x").setType(EVENT_TYPE_WRITE).build();
    assertThat(buffer.onEvent(event)).isTrue();
    assertThat(buffer.onEvent(event)).isTrue();
    assertThat(buffer.drain()).hasSize(2);
    assertThat(buffer.drain()).isEmpty();
    buffer.onEvent(event);
    buffer.onEvent(event);
    assertThat(buffer.onEvent(event)).as("the third undrained event ends the watch").isFalse();
    assertConnectError(buffer::drain, ConnectCode.INTERNAL, "events were lost");
    assertConnectError(buffer::drain, ConnectCode.INTERNAL, "events were lost");
  }

  @Test
  void aFailedWatchEndsTheStreamWithInternal() throws Exception {
    StreamedEvents events = new StreamedEvents(1);
    events.onEvent(FilesystemEvent.newBuilder().setName("x").build());
    events.onFailure("watcher error: boom");
    StreamedEvents.Item item =
        requireNonNull(events.poll(1, java.util.concurrent.TimeUnit.SECONDS), "no item");
    assertThat(item.failure()).isEqualTo("watcher error: boom");
  }

  @Test
  void noDescriptorOrThreadOutlivesAWatch() throws Exception {
    Files.createDirectories(dir.resolve("x/y"));
    // warm up class loading and lazily opened JDK descriptors
    watch(request(dir).build()).stop();
    long before = OpenDescriptors.count();

    for (int i = 0; i < 5; i++) {
      RunningWatch watch = watch(request(dir).setRecursive(true).build());
      Files.writeString(dir.resolve("f" + i), "x");
      watch.until(EVENT_TYPE_CREATE, "f" + i);
      watch.stop();

      String id =
          service
              .createWatcher(
                  CreateWatcherRequest.newBuilder()
                      .setPath(dir.toString())
                      .setRecursive(true)
                      .build(),
                  FakeCallContext.create())
              .getWatcherId();
      service.removeWatcher(
          RemoveWatcherRequest.newBuilder().setWatcherId(id).build(), FakeCallContext.create());

      FakeResponseStream<WatchDirResponse> stream = new FakeResponseStream<>();
      assertConnectError(
          () ->
              service.watchDir(
                  request(dir.resolve("missing")).build(), FakeCallContext.create(), stream),
          ConnectCode.NOT_FOUND,
          "does not exist");
    }
    RunningWatch expiring =
        watch(request(dir).build(), FakeCallContext.create().timeout(Duration.ofMillis(200)));
    assertThat(expiring.call.awaitEnd(WAIT)).isTrue();

    long deadline = System.nanoTime() + WAIT.toNanos();
    while (OpenDescriptors.count() > before && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    assertThat(OpenDescriptors.count()).isLessThanOrEqualTo(before);
    assertThat(watchThreads()).isEmpty();
  }

  @Test
  void closingTheServiceEndsItsWatchers() throws Exception {
    service.createWatcher(
        CreateWatcherRequest.newBuilder().setPath(dir.toString()).build(),
        FakeCallContext.create());
    assertThat(watchThreads()).isNotEmpty();
    service.close();
    assertThat(service.watcherCount()).isZero();
    assertThat(watchThreads()).isEmpty();
  }

  /** Polls GetWatcherEvents (every 20 ms) until an event matches; collects what it drains. */
  private void pollUntil(String id, List<FilesystemEvent> all, Predicate<FilesystemEvent> wanted)
      throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      List<FilesystemEvent> drained =
          service
              .getWatcherEvents(
                  GetWatcherEventsRequest.newBuilder().setWatcherId(id).build(),
                  FakeCallContext.create())
              .getEventsList();
      all.addAll(drained);
      if (drained.stream().anyMatch(wanted)) {
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no such event; drained " + all);
  }

  /** The names of the threads that watch a directory now. */
  static List<String> watchThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(name -> name.startsWith("watch /"))
        .toList();
  }
}
