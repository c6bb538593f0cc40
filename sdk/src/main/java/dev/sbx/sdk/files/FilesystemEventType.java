package dev.sbx.sdk.files;

/** What happened to a watched entry. */
public enum FilesystemEventType {
  CREATE,
  WRITE,
  REMOVE,
  RENAME,
  CHMOD
}
