package dev.sbx.sdk.files;

import static java.util.Objects.requireNonNull;

import org.jspecify.annotations.Nullable;

/**
 * A change in a watched directory.
 *
 * @param name the path relative to the watched directory
 * @param type what happened
 * @param entry the entry after the change, with {@link WatchOptions#includeEntry()} (envd 0.6.3)
 *     for create, write and chmod
 */
public record FilesystemEvent(String name, FilesystemEventType type, @Nullable EntryInfo entry) {
  public FilesystemEvent {
    requireNonNull(name, "name");
    requireNonNull(type, "type");
  }
}
