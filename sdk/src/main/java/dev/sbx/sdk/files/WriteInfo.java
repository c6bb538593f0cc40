package dev.sbx.sdk.files;

import static java.util.Objects.requireNonNull;

/**
 * A file that was written.
 *
 * @param name the last path element
 * @param type always {@link FileType#FILE}
 * @param path the absolute path
 */
public record WriteInfo(String name, FileType type, String path) {
  public WriteInfo {
    requireNonNull(name, "name");
    requireNonNull(type, "type");
    requireNonNull(path, "path");
  }
}
