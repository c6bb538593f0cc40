package dev.sbx.connect;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/** gzip, the one compression Connect peers here speak, with a bound on what it inflates to. */
final class Gzip {
  static final String NAME = "gzip";

  private Gzip() {}

  static byte[] compress(byte[] bytes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, bytes.length / 2));
    try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
      gzip.write(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /**
   * Inflates; {@code invalid_argument} for bytes that are not gzip, {@code resource_exhausted} when
   * they inflate to more than {@code maxBytes}.
   */
  static byte[] decompress(byte[] bytes, int maxBytes) {
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
      return readBounded(in, maxBytes);
    } catch (IOException e) {
      throw new ConnectException(
          ConnectCode.INVALID_ARGUMENT, "malformed gzip data: " + e.getMessage(), e);
    }
  }

  /** Reads a stream to its end; {@code resource_exhausted} past {@code maxBytes}. */
  static byte[] readBounded(InputStream in, int maxBytes) throws IOException {
    byte[] bytes = in.readNBytes(maxBytes);
    if (bytes.length == maxBytes && in.read() != -1) {
      throw new ConnectException(
          ConnectCode.RESOURCE_EXHAUSTED, "message exceeds the limit of " + maxBytes + " bytes");
    }
    return bytes;
  }
}
