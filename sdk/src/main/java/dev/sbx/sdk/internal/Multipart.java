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

  /** As the WHATWG form-data encoder (undici): {@code "}, CR and LF percent-encoded. */
  static String escape(String filename) {
    return filename.replace("\"", "%22").replace("\r", "%0D").replace("\n", "%0A");
  }

  private static InputStream bytes(String text) {
    return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
  }
}
