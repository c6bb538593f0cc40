package dev.sbx.sdk.files;

/** The type of a filesystem entry; a symlink reports the type of its target. */
public enum FileType {
  FILE,
  DIR,
  /** A symlink whose target's type is unknown (e.g. a dangling link). */
  SYMLINK,
  /** envd did not say. */
  UNKNOWN
}
