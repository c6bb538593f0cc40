package dev.sbx.sdk.files;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A file, directory or symlink in the sandbox.
 *
 * @param name the last path element
 * @param type file or directory (a symlink: its target's type)
 * @param path the absolute path
 * @param size the size in bytes
 * @param mode the permission bits (e.g. {@code 0644})
 * @param permissions the permissions as text, e.g. {@code -rw-r--r--}
 * @param owner the owner's user name
 * @param group the group's name
 * @param modifiedTime when it was last modified
 * @param symlinkTarget the target, if this is a symlink
 * @param metadata the file's metadata (set by {@link Filesystem#write} with metadata, envd 0.6.2)
 */
public record EntryInfo(
    String name,
    FileType type,
    String path,
    long size,
    int mode,
    String permissions,
    String owner,
    String group,
    Instant modifiedTime,
    @Nullable String symlinkTarget,
    Map<String, String> metadata) {
  public EntryInfo {
    requireNonNull(name, "name");
    requireNonNull(type, "type");
    requireNonNull(path, "path");
    requireNonNull(permissions, "permissions");
    requireNonNull(owner, "owner");
    requireNonNull(group, "group");
    requireNonNull(modifiedTime, "modifiedTime");
    metadata = Map.copyOf(metadata);
  }
}
