package dev.sbx.envd.files;

import com.sun.net.httpserver.Headers;
import dev.sbx.envd.http.HttpStatusException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A file's user metadata, as E2B's envd keeps it: each {@code X-Metadata-<key>: <value>} request
 * header of an upload becomes the extended attribute {@code user.e2b.<key>} (the key lower-cased,
 * the first value of a repeated header); keys and values are printable ASCII, a key at most 246
 * bytes, all of them together at most 4096 bytes. Writing replaces the whole set, so an overwritten
 * file does not keep the metadata of its previous upload.
 */
final class FileMetadata {
  static final String HEADER_PREFIX = "x-metadata-";

  /** Java's user-defined attributes live in the {@code user.} namespace; ours below it. */
  private static final String ATTRIBUTE_PREFIX = "e2b.";

  static final int MAX_KEY_BYTES = 255 - "user.e2b.".length();
  static final int MAX_TOTAL_BYTES = 4096;

  private FileMetadata() {}

  /**
   * The metadata of an upload's headers (empty when there is none).
   *
   * @throws HttpStatusException 400 when a key or value is not acceptable
   */
  static Map<String, String> fromHeaders(Headers headers) {
    Map<String, String> metadata = new TreeMap<>();
    for (Map.Entry<String, List<String>> header : headers.entrySet()) {
      String name = header.getKey().toLowerCase(Locale.ROOT);
      if (!name.startsWith(HEADER_PREFIX) || header.getValue().isEmpty()) {
        continue;
      }
      String key = name.substring(HEADER_PREFIX.length());
      if (!key.isEmpty()) {
        metadata.put(key, header.getValue().getFirst());
      }
    }
    validate(metadata);
    return metadata;
  }

  static void validate(Map<String, String> metadata) {
    int total = 0;
    for (Map.Entry<String, String> e : metadata.entrySet()) {
      String key = e.getKey();
      if (key.length() > MAX_KEY_BYTES) {
        throw invalid("key '" + key + "' exceeds " + MAX_KEY_BYTES + " bytes");
      }
      requirePrintableAscii("key '" + key + "'", key);
      requirePrintableAscii("value for key '" + key + "'", e.getValue());
      total += "user.e2b.".length() + key.length() + e.getValue().length();
    }
    if (total > MAX_TOTAL_BYTES) {
      throw invalid("total metadata size " + total + " exceeds " + MAX_TOTAL_BYTES + " bytes");
    }
  }

  /**
   * Replaces the {@code user.e2b.*} attributes of {@code file} with {@code metadata}.
   *
   * @throws IOException also when the file system has no user extended attributes
   */
  static void write(Path file, Map<String, String> metadata) throws IOException {
    UserDefinedFileAttributeView view = view(file);
    for (String name : view.list()) {
      if (name.startsWith(ATTRIBUTE_PREFIX)
          && !metadata.containsKey(name.substring(ATTRIBUTE_PREFIX.length()))) {
        view.delete(name);
      }
    }
    for (Map.Entry<String, String> e : metadata.entrySet()) {
      view.write(
          ATTRIBUTE_PREFIX + e.getKey(),
          ByteBuffer.wrap(e.getValue().getBytes(StandardCharsets.US_ASCII)));
    }
  }

  /** The {@code user.e2b.*} attributes of {@code file} that are valid UTF-8. */
  static Map<String, String> read(Path file) throws IOException {
    UserDefinedFileAttributeView view = view(file);
    Map<String, String> metadata = new TreeMap<>();
    for (String name : view.list()) {
      if (!name.startsWith(ATTRIBUTE_PREFIX)) {
        continue;
      }
      ByteBuffer value = ByteBuffer.allocate(view.size(name));
      view.read(name, value);
      value.flip();
      try {
        metadata.put(
            name.substring(ATTRIBUTE_PREFIX.length()),
            StandardCharsets.UTF_8.newDecoder().decode(value).toString());
      } catch (java.nio.charset.CharacterCodingException e) {
        // not UTF-8: set inside the sandbox by other means; left out
      }
    }
    return metadata;
  }

  /** Whether {@code e} says the file system does not support extended attributes. */
  static boolean isUnsupported(IOException e) {
    String reason = e instanceof FileSystemException fse ? fse.getReason() : e.getMessage();
    return reason != null && reason.contains("not supported");
  }

  private static UserDefinedFileAttributeView view(Path file) throws IOException {
    UserDefinedFileAttributeView view =
        Files.getFileAttributeView(file, UserDefinedFileAttributeView.class);
    if (view == null) {
      throw new IOException("extended attributes are not supported for " + file);
    }
    return view;
  }

  private static void requirePrintableAscii(String what, String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        throw invalid(
            what + " contains non-printable-ASCII byte 0x" + Integer.toHexString(c) + " at " + i);
      }
    }
  }

  private static HttpStatusException invalid(String message) {
    return new HttpStatusException(400, "invalid metadata: metadata " + message);
  }
}
