package dev.sbx.sdk.files;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * One file of a multi-file {@link Filesystem#write(java.util.List)}.
 *
 * @param path where to write it (relative paths are relative to the user's home)
 * @param data its content; read once, when the request is sent
 */
public record WriteEntry(String path, InputStream data) {
  public WriteEntry {
    requireNonNull(path, "path");
    requireNonNull(data, "data");
  }

  public static WriteEntry of(String path, byte[] data) {
    return new WriteEntry(path, new ByteArrayInputStream(data.clone()));
  }

  public static WriteEntry of(String path, String data) {
    return new WriteEntry(path, new ByteArrayInputStream(data.getBytes(StandardCharsets.UTF_8)));
  }
}
