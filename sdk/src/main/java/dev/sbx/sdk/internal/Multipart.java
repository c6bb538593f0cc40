package dev.sbx.sdk.internal;

import dev.sbx.sdk.files.WriteEntry;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;

/**
 * A {@code multipart/form-data} body as E2B's SDKs send to {@code POST /files}: one part per file,
 * form name {@code file}, filename = the target path, {@code Content-Type:
 * application/octet-stream}. The body is a stream (sent chunked), so files are not buffered.
 */
final class Multipart {
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String boundary;
  private final List<WriteEntry> files;

  Multipart(List<WriteEntry> files) {
    byte[] random = new byte[12];
    RANDOM.nextBytes(random);
    this.boundary = "----sbxFormBoundary" + HexFormat.of().formatHex(random);
    this.files = List.copyOf(files);
    // fail on a bad path before anything is sent
    this.files.forEach(file -> escape(file.path()));
  }

  String contentType() {
    return "multipart/form-data; boundary=" + boundary;
  }

  InputStream body() {
    List<InputStream> parts = new ArrayList<>();
    for (WriteEntry file : files) {
      String head =
          "--"
              + boundary
              + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
              + escape(file.path())
              + "\"\r\nContent-Type: application/octet-stream\r\n\r\n";
      parts.add(bytes(head));
      parts.add(file.data());
      parts.add(bytes("\r\n"));
    }
    parts.add(bytes("--" + boundary + "--\r\n"));
    return new SequenceInputStream(Collections.enumeration(parts));
  }

  /**
   * The filename as a quoted string: {@code \\} and {@code "} backslash-escaped, which envd (Go's
   * {@code mime} and sbx's) unescapes. E2B's JS SDK percent-encodes {@code "} instead (the WHATWG
   * form-data rule), which envd does not decode, so such a file would get a wrong name. CR and LF
   * cannot be carried in a header and are rejected.
   */
  static String escape(String filename) {
    if (filename.indexOf('\r') >= 0 || filename.indexOf('\n') >= 0) {
      throw new dev.sbx.sdk.InvalidArgumentException(
          "a path written to the sandbox cannot contain CR or LF: " + filename);
    }
    return filename.replace("\\", "\\\\").replace("\"", "\\\"");
  }

  private static InputStream bytes(String text) {
    return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
  }
}
