package dev.sbx.orchestrator.pause;

import static java.util.Objects.requireNonNull;

import dev.sbx.orchestrator.rootfs.DirectoryTree;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The node's saved state on disk: {@code <dir>/paused/<sandbox id>/} and {@code
 * <dir>/snapshots/<hex of the snapshot id>/}, each holding {@code image/} (the checkpoint, when
 * memory was kept), {@code upper/} (the overlay's upper directory: the rootfs changes) and {@code
 * record.json}, written last (a temporary file forced to disk, renamed, the directory forced). A
 * directory without {@code record.json} is a save that never finished (the orchestrator died, or
 * the save failed): {@link #open} removes it, it is never resumed.
 *
 * <p>Thread-safe.
 */
public final class SavedStateStore {
  private static final System.Logger LOG = System.getLogger(SavedStateStore.class.getName());

  /** The record's file name. */
  public static final String RECORD = "record.json";

  private final Path dir;
  private final Map<SavedRecord.Kind, Map<String, SavedRecord>> records =
      new EnumMap<>(SavedRecord.Kind.class);

  private SavedStateStore(Path dir) {
    this.dir = dir;
    for (SavedRecord.Kind kind : SavedRecord.Kind.values()) {
      records.put(kind, new TreeMap<>());
    }
  }

  /** Opens (creates) the store at {@code dir}: loads every record, removes unfinished saves. */
  public static SavedStateStore open(Path dir) {
    SavedStateStore store = new SavedStateStore(requireNonNull(dir, "dir"));
    // a fork's checkpoint lives only while the fork runs
    DirectoryTree.delete(dir.resolve("forks"));
    for (SavedRecord.Kind kind : SavedRecord.Kind.values()) {
      Path kindDir = store.kindDir(kind);
      try {
        Files.createDirectories(kindDir);
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(kindDir)) {
          for (Path entry : entries) {
            Path record = entry.resolve(RECORD);
            if (!Files.isRegularFile(record, LinkOption.NOFOLLOW_LINKS)) {
              LOG.log(
                  System.Logger.Level.WARNING,
                  "removing {0}: a save that never finished (no {1})",
                  entry,
                  RECORD);
              DirectoryTree.delete(entry);
              continue;
            }
            try {
              SavedRecord saved = SavedRecord.fromJson(Files.readString(record));
              if (!entry.getFileName().toString().equals(store.dirName(kind, saved.id()))) {
                throw new IllegalArgumentException("record of " + saved.id() + " in " + entry);
              }
              store.of(kind).put(saved.id(), saved);
            } catch (IllegalArgumentException e) {
              LOG.log(System.Logger.Level.WARNING, "removing " + entry + ": bad record", e);
              DirectoryTree.delete(entry);
            }
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot open the saved state in " + kindDir, e);
      }
    }
    return store;
  }

  private Map<String, SavedRecord> of(SavedRecord.Kind kind) {
    return requireNonNull(records.get(kind), "kind");
  }

  public Path dir() {
    return dir;
  }

  private Path kindDir(SavedRecord.Kind kind) {
    return dir.resolve(kind == SavedRecord.Kind.PAUSED ? "paused" : "snapshots");
  }

  private String dirName(SavedRecord.Kind kind, String id) {
    // sandbox ids are file names; snapshot ids may hold '/' and ':'
    return kind == SavedRecord.Kind.PAUSED
        ? id
        : HexFormat.of().formatHex(id.getBytes(StandardCharsets.UTF_8));
  }

  /** The directory of a save of {@code kind} and {@code id} (it may not exist). */
  public Path path(SavedRecord.Kind kind, String id) {
    return kindDir(kind).resolve(dirName(kind, id));
  }

  /**
   * Starts a save: creates its directory (atomically: one save per id).
   *
   * @throws FileAlreadyExistsException wrapped as {@link AlreadyPausedException} if one exists
   */
  public Path begin(SavedRecord.Kind kind, String id) {
    Path path = path(kind, id);
    try {
      Files.createDirectories(path.getParent());
      Files.createDirectory(path);
    } catch (FileAlreadyExistsException e) {
      throw new AlreadyPausedException(
          (kind == SavedRecord.Kind.PAUSED ? "sandbox " : "snapshot ") + id + " is already saved");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + path, e);
    }
    return path;
  }

  /** Finishes a save: measures it, writes its record last; returns the record with its size. */
  public SavedRecord commit(Path path, SavedRecord record) {
    SavedRecord sized = record.withSize(sizeOf(path));
    Path temp = path.resolve(RECORD + ".tmp");
    try (FileChannel channel =
        FileChannel.open(
            temp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      channel.write(StandardCharsets.UTF_8.encode(sized.toJson()));
      channel.force(true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + temp, e);
    }
    try {
      Files.move(temp, path.resolve(RECORD), StandardCopyOption.ATOMIC_MOVE);
      try (FileChannel directory = FileChannel.open(path, StandardOpenOption.READ)) {
        directory.force(true);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot commit " + path, e);
    }
    synchronized (records) {
      of(record.kind()).put(record.id(), sized);
    }
    return sized;
  }

  /** Removes an unfinished save (its record never written), or what is left of a finished one. */
  public void discard(Path path) {
    DirectoryTree.delete(path);
  }

  public Optional<SavedRecord> get(SavedRecord.Kind kind, String id) {
    synchronized (records) {
      return Optional.ofNullable(of(kind).get(id));
    }
  }

  /** The finished saves of {@code kind}, by id. */
  public List<SavedRecord> list(SavedRecord.Kind kind) {
    synchronized (records) {
      return List.copyOf(of(kind).values());
    }
  }

  /**
   * Forgets a save and deletes its directory (the record first, so a crash half-way leaves an
   * unfinished save that the next {@link #open} removes).
   *
   * @return whether there was one
   */
  public boolean delete(SavedRecord.Kind kind, String id) {
    SavedRecord removed;
    synchronized (records) {
      removed = of(kind).remove(id);
    }
    if (removed == null) {
      return false;
    }
    Path path = path(kind, id);
    try {
      Files.deleteIfExists(path.resolve(RECORD));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete the record in " + path, e);
    }
    DirectoryTree.delete(path);
    return true;
  }

  /** Bytes of every finished save. */
  public long usedBytes() {
    synchronized (records) {
      return records.values().stream()
          .flatMap(map -> map.values().stream())
          .mapToLong(SavedRecord::sizeBytes)
          .sum();
    }
  }

  /** The disk's free bytes where the saved state lives. */
  public long usableBytes() {
    try {
      return Files.getFileStore(dir).getUsableSpace();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The bytes of the regular files below {@code path} (symlinks not followed). */
  public static long sizeOf(Path path) {
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      return 0;
    }
    try (Stream<Path> files = Files.walk(path)) {
      return files
          .sorted(Comparator.naturalOrder())
          .mapToLong(
              file -> {
                try {
                  BasicFileAttributes attributes =
                      Files.readAttributes(
                          file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                  return attributes.isRegularFile() ? attributes.size() : 0;
                } catch (IOException e) {
                  return 0; // removed meanwhile
                }
              })
          .sum();
    } catch (IOException | UncheckedIOException e) {
      return 0;
    }
  }
}
