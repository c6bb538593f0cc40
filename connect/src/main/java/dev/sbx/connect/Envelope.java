package dev.sbx.connect;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.jspecify.annotations.Nullable;

/**
 * One frame of a Connect stream: a flag byte, a 4-byte big-endian length, then the payload.
 *
 * @param flags {@link #COMPRESSED} and/or {@link #END_STREAM}
 * @param payload the (possibly compressed) message or end-stream JSON
 */
record Envelope(int flags, byte[] payload) {
  static final int COMPRESSED = 0x01;
  static final int END_STREAM = 0x02;
  static final int PREFIX_LENGTH = 5;

  boolean compressed() {
    return (flags & COMPRESSED) != 0;
  }

  boolean endStream() {
    return (flags & END_STREAM) != 0;
  }

  /** The envelope as bytes: prefix and payload. */
  byte[] toBytes() {
    byte[] bytes = new byte[PREFIX_LENGTH + payload.length];
    bytes[0] = (byte) flags;
    int length = payload.length;
    bytes[1] = (byte) (length >>> 24);
    bytes[2] = (byte) (length >>> 16);
    bytes[3] = (byte) (length >>> 8);
    bytes[4] = (byte) length;
    System.arraycopy(payload, 0, bytes, PREFIX_LENGTH, length);
    return bytes;
  }

  void writeTo(OutputStream out) throws IOException {
    out.write(toBytes());
  }

  /**
   * Reads the next envelope; {@code null} at a clean end of input (no byte of a new envelope).
   * Throws {@link ConnectException}: {@code invalid_argument} for a truncated envelope, {@code
   * resource_exhausted} for one longer than {@code maxPayloadBytes}.
   *
   * @throws IOException when reading fails
   */
  static @Nullable Envelope read(InputStream in, int maxPayloadBytes) throws IOException {
    byte[] prefix = new byte[PREFIX_LENGTH];
    int read = in.readNBytes(prefix, 0, PREFIX_LENGTH);
    if (read == 0) {
      return null;
    }
    if (read < PREFIX_LENGTH) {
      throw new ConnectException(
          ConnectCode.INVALID_ARGUMENT,
          "truncated envelope: " + read + " of " + PREFIX_LENGTH + " prefix bytes");
    }
    long length =
        ((prefix[1] & 0xFFL) << 24)
            | ((prefix[2] & 0xFFL) << 16)
            | ((prefix[3] & 0xFFL) << 8)
            | (prefix[4] & 0xFFL);
    if (length > maxPayloadBytes) {
      throw new ConnectException(
          ConnectCode.RESOURCE_EXHAUSTED,
          "message of " + length + " bytes exceeds the limit of " + maxPayloadBytes + " bytes");
    }
    byte[] payload = new byte[(int) length];
    int payloadRead = in.readNBytes(payload, 0, payload.length);
    if (payloadRead < payload.length) {
      throw new ConnectException(
          ConnectCode.INVALID_ARGUMENT,
          "truncated envelope: " + payloadRead + " of " + length + " message bytes");
    }
    return new Envelope(prefix[0] & 0xFF, payload);
  }
}
