package dev.sbx.envd.files;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Reads a {@code multipart/*} body (RFC 2046) part by part straight from the request stream: a
 * part's body is an {@link InputStream} that ends at the next boundary, so parts of any size pass
 * through a fixed buffer. Lines end with CRLF; a preamble, transport padding after a boundary and
 * an epilogue are skipped.
 */
final class MultipartStream {
  static final int MAX_BOUNDARY_LENGTH = 200;
  private static final int MAX_HEADER_BYTES = 16 * 1024;
  private static final int MAX_HEADERS = 64;
  private static final int BUFFER_SIZE = 64 * 1024;

  /** A part: its headers (names lower-cased) and its body. */
  record Part(Map<String, String> headers, InputStream body) {
    Part {
      headers = Map.copyOf(headers);
    }

    @Nullable String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  /** The body is not the multipart body it claims to be. */
  static final class MalformedMultipartException extends IOException {
    private static final long serialVersionUID = 1L;

    MalformedMultipartException(String message) {
      super(message);
    }
  }

  private final InputStream in;
  private final byte[] delimiter;
  private final byte[] buffer = new byte[BUFFER_SIZE];
  private int pos;
  private int limit;
  private boolean finished;
  private PartBody current;

  /**
   * @throws IllegalArgumentException when the boundary is empty or longer than {@value
   *     #MAX_BOUNDARY_LENGTH}
   */
  MultipartStream(InputStream in, String boundary) {
    if (boundary.isEmpty() || boundary.length() > MAX_BOUNDARY_LENGTH) {
      throw new IllegalArgumentException("invalid multipart boundary");
    }
    this.in = in;
    this.delimiter = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
    // The first boundary may open the body: a virtual CRLF in front lets one delimiter match all.
    buffer[0] = '\r';
    buffer[1] = '\n';
    limit = 2;
    current = new PartBody(); // the preamble
  }

  /** The next part, with the rest of the previous one skipped; null after the last part. */
  @Nullable Part next() throws IOException {
    if (finished) {
      return null;
    }
    current.skipRest();
    ensure(delimiter.length + 2);
    pos += delimiter.length;
    if (buffer[pos] == '-' && buffer[pos + 1] == '-') {
      finished = true;
      return null;
    }
    while (true) {
      ensure(1);
      if (buffer[pos] == ' ' || buffer[pos] == '\t') {
        pos++;
      } else {
        break;
      }
    }
    ensure(2);
    if (buffer[pos] != '\r' || buffer[pos + 1] != '\n') {
      throw new MalformedMultipartException("multipart boundary is not followed by CRLF");
    }
    pos += 2;
    Map<String, String> headers = readHeaders();
    current = new PartBody();
    return new Part(headers, current);
  }

  private Map<String, String> readHeaders() throws IOException {
    Map<String, String> headers = new LinkedHashMap<>();
    int bytes = 0;
    while (true) {
      String line = readLine(MAX_HEADER_BYTES - bytes);
      bytes += line.length() + 2;
      if (line.isEmpty()) {
        return headers;
      }
      int colon = line.indexOf(':');
      if (colon <= 0) {
        throw new MalformedMultipartException("malformed multipart part header");
      }
      if (headers.size() >= MAX_HEADERS) {
        throw new MalformedMultipartException("too many multipart part headers");
      }
      headers.putIfAbsent(
          line.substring(0, colon).trim().toLowerCase(Locale.ROOT),
          line.substring(colon + 1).trim());
    }
  }

  /** A CRLF-terminated line of at most {@code max} bytes, decoded as UTF-8. */
  private String readLine(int max) throws IOException {
    int scanned = 0;
    while (true) {
      for (int i = pos + scanned; i + 1 < limit; i++) {
        if (buffer[i] == '\r' && buffer[i + 1] == '\n') {
          if (i - pos > max) {
            throw new MalformedMultipartException("multipart part headers are too large");
          }
          String line = new String(buffer, pos, i - pos, StandardCharsets.UTF_8);
          pos = i + 2;
          return line;
        }
      }
      scanned = Math.max(0, limit - pos - 1);
      if (scanned > max) {
        throw new MalformedMultipartException("multipart part headers are too large");
      }
      if (!fill()) {
        throw new EOFException("multipart body ends inside part headers");
      }
    }
  }

  /** Makes {@code n} bytes available at {@code pos}. */
  private void ensure(int n) throws IOException {
    while (limit - pos < n) {
      if (!fill()) {
        throw new EOFException("multipart body ends before its closing boundary");
      }
    }
  }

  /** Moves the unread bytes to the front and reads more; false at the end of the stream. */
  private boolean fill() throws IOException {
    if (pos > 0) {
      System.arraycopy(buffer, pos, buffer, 0, limit - pos);
      limit -= pos;
      pos = 0;
    }
    if (limit == buffer.length) {
      throw new MalformedMultipartException("multipart buffer overflow");
    }
    int n = in.read(buffer, limit, buffer.length - limit);
    if (n < 0) {
      return false;
    }
    limit += n;
    return true;
  }

  /** Where the delimiter starts in the buffered bytes, or -1. */
  private int findDelimiter() {
    byte first = delimiter[0];
    outer:
    for (int i = pos; i <= limit - delimiter.length; i++) {
      if (buffer[i] != first) {
        continue;
      }
      for (int j = 1; j < delimiter.length; j++) {
        if (buffer[i + j] != delimiter[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /** The body of the current part: the bytes up to the next delimiter. */
  private final class PartBody extends InputStream {
    private boolean ended;

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] target, int offset, int length) throws IOException {
      if (ended || current != this) {
        return -1;
      }
      if (length == 0) {
        return 0;
      }
      while (true) {
        int found = findDelimiter();
        if (found == pos) {
          ended = true;
          return -1;
        }
        // Bytes before a found delimiter, or that cannot begin a delimiter, are the part's.
        int available = found >= 0 ? found : Math.max(pos, limit - delimiter.length + 1);
        if (available > pos) {
          int n = Math.min(length, available - pos);
          System.arraycopy(buffer, pos, target, offset, n);
          pos += n;
          return n;
        }
        if (!fill()) {
          throw new EOFException("multipart body ends before its closing boundary");
        }
      }
    }

    void skipRest() throws IOException {
      byte[] scratch = new byte[8192];
      while (read(scratch, 0, scratch.length) >= 0) {
        // skipped
      }
    }
  }
}
