package dev.sbx.sdk.files;

import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The filesystem of one sandbox. Relative paths resolve against the user's home; {@code user}
 * parameters name the user to act as ({@code null}: the sandbox's default user). E2B: {@code
 * sandbox.files}.
 */
public interface Filesystem {
  /** Reads a file as UTF-8 text. */
  default String read(String path) {
    return read(path, null);
  }

  /** Reads a file as UTF-8 text, as {@code user}. */
  String read(String path, @Nullable String user);

  /** Reads a file's bytes. */
  default byte[] readBytes(String path) {
    return readBytes(path, null);
  }

  /** Reads a file's bytes, as {@code user}. */
  byte[] readBytes(String path, @Nullable String user);

  /** Opens a file for reading; close the stream when done. */
  default InputStream readStream(String path) {
    return readStream(path, null);
  }

  /** Opens a file for reading, as {@code user}; close the stream when done. */
  InputStream readStream(String path, @Nullable String user);

  /** Writes UTF-8 text to a file, creating parent directories, replacing an existing file. */
  default WriteInfo write(String path, String data) {
    return write(path, data, null);
  }

  /** Writes UTF-8 text to a file as {@code user}. */
  WriteInfo write(String path, String data, @Nullable String user);

  /** Writes bytes to a file. */
  default WriteInfo write(String path, byte[] data) {
    return write(path, data, null);
  }

  /** Writes bytes to a file as {@code user}. */
  WriteInfo write(String path, byte[] data, @Nullable String user);

  /** Writes a stream to a file (streamed, not buffered: envd 0.5.7); the stream is closed. */
  default WriteInfo write(String path, InputStream data) {
    return write(path, data, null);
  }

  /** Writes a stream to a file as {@code user}; the stream is closed. */
  WriteInfo write(String path, InputStream data, @Nullable String user);

  /** Writes several files in one request (multipart). */
  default List<WriteInfo> write(List<WriteEntry> files) {
    return write(files, null);
  }

  /** Writes several files in one request (multipart) as {@code user}. */
  List<WriteInfo> write(List<WriteEntry> files, @Nullable String user);

  /** Lists a directory (depth 1). */
  default List<EntryInfo> list(String path) {
    return list(path, 1, null);
  }

  /** Lists a directory to {@code depth} levels (at least 1). */
  default List<EntryInfo> list(String path, int depth) {
    return list(path, depth, null);
  }

  /** Lists a directory to {@code depth} levels as {@code user}. */
  List<EntryInfo> list(String path, int depth, @Nullable String user);

  /** Whether a path exists. */
  default boolean exists(String path) {
    return exists(path, null);
  }

  /** Whether a path exists, as {@code user}. */
  boolean exists(String path, @Nullable String user);

  /** Describes a path. */
  default EntryInfo getInfo(String path) {
    return getInfo(path, null);
  }

  /** Describes a path, as {@code user}. */
  EntryInfo getInfo(String path, @Nullable String user);

  /** Creates a directory and its parents; false if it already existed. */
  default boolean makeDir(String path) {
    return makeDir(path, null);
  }

  /** Creates a directory and its parents as {@code user}; false if it already existed. */
  boolean makeDir(String path, @Nullable String user);

  /** Moves or renames a file or directory and returns the moved entry. */
  default EntryInfo rename(String oldPath, String newPath) {
    return rename(oldPath, newPath, null);
  }

  /** Moves or renames as {@code user}. */
  EntryInfo rename(String oldPath, String newPath, @Nullable String user);

  /** Removes a file or a directory with its contents; nothing happens if it does not exist. */
  default void remove(String path) {
    remove(path, null);
  }

  /** Removes as {@code user}. */
  void remove(String path, @Nullable String user);

  /**
   * Watches a directory and returns once the watch is active. Events arrive on the SDK's reader
   * thread until {@link WatchHandle#stop()} or the timeout (60 s by default).
   */
  default WatchHandle watchDir(String path, Consumer<FilesystemEvent> onEvent) {
    return watchDir(path, onEvent, WatchOptions.defaults());
  }

  /** Watches a directory with options. */
  WatchHandle watchDir(String path, Consumer<FilesystemEvent> onEvent, WatchOptions options);

  /**
   * A URL to which a plain HTTP client can {@code POST} a file (multipart, field {@code file}). For
   * a secure sandbox it is signed for {@code path} and {@code user}; {@code signatureExpiration}
   * (secure sandboxes only) limits how long the signature is valid.
   */
  String uploadUrl(
      @Nullable String path, @Nullable String user, @Nullable Duration signatureExpiration);

  /**
   * A URL from which a plain HTTP client can {@code GET} the file; signed as {@link #uploadUrl}.
   */
  String downloadUrl(String path, @Nullable String user, @Nullable Duration signatureExpiration);
}
