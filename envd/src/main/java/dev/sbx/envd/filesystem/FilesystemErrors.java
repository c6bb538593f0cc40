package dev.sbx.envd.filesystem;

import dev.sbx.connect.ConnectCode;
import dev.sbx.connect.ConnectException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/** The Connect errors of the filesystem service, with E2B's codes and message style. */
final class FilesystemErrors {
  private FilesystemErrors() {}

  static ConnectException notFound(Path path) {
    return new ConnectException(ConnectCode.NOT_FOUND, "path '" + path + "' does not exist");
  }

  static ConnectException notADirectory(Path path) {
    return new ConnectException(ConnectCode.INVALID_ARGUMENT, "path is not a directory: " + path);
  }

  /** Creating {@code dir} failed because {@code e.getFile()}, on its way, is not a directory. */
  static ConnectException blockedByFile(Path dir, FileAlreadyExistsException e) {
    return new ConnectException(
        ConnectCode.INVALID_ARGUMENT,
        "cannot create directory " + dir + ": '" + e.getFile() + "' is not a directory");
  }

  static ConnectException cyclicSymlink(Path path) {
    return new ConnectException(
        ConnectCode.FAILED_PRECONDITION, "cyclic symlink or chain >255 links at \"" + path + "\"");
  }

  /**
   * The error for {@code e}, thrown while {@code action} (e.g. "reading directory") on {@code
   * path}: a missing path is {@code not_found}, a refused access {@code permission_denied}, a path
   * that is not a directory {@code invalid_argument}, a symlink loop {@code failed_precondition},
   * anything else {@code internal}.
   */
  static ConnectException of(IOException e, String action, Path path) {
    if (e instanceof NoSuchFileException) {
      return notFound(path);
    }
    if (e instanceof NotDirectoryException) {
      return notADirectory(path);
    }
    String reason = reason(e);
    if (e instanceof AccessDeniedException
        || reason.contains("Operation not permitted")
        || reason.contains("Read-only file system")) {
      return new ConnectException(
          ConnectCode.PERMISSION_DENIED,
          "permission denied " + action + " '" + path + "': " + reason,
          e);
    }
    if (reason.contains("Too many levels of symbolic links")) {
      return cyclicSymlink(path);
    }
    return new ConnectException(
        ConnectCode.INTERNAL, "error " + action + " '" + path + "': " + reason, e);
  }

  /** The operating system's reason, without the file names the JDK puts in front of it. */
  static String reason(IOException e) {
    if (e instanceof FileSystemException fse && fse.getReason() != null) {
      return fse.getReason();
    }
    String message = e.getMessage();
    return message == null ? e.getClass().getSimpleName() : message;
  }
}
