package dev.sbx.envd.files;

import org.jspecify.annotations.Nullable;

/**
 * One byte range of a file, from a {@code Range: bytes=...} header: {@code first-last}, {@code
 * first-} or the suffix {@code -length}.
 */
record ByteRange(long start, long length) {

  long end() {
    return start + length - 1;
  }

  String contentRange(long size) {
    return "bytes " + start + "-" + end() + "/" + size;
  }

  /** The header does not name a satisfiable range of the file (a 416). */
  static final class UnsatisfiableException extends Exception {
    private static final long serialVersionUID = 1L;

    UnsatisfiableException(String message) {
      super(message);
    }
  }

  /**
   * The range {@code header} asks of a file of {@code size} bytes; null when the whole file is to
   * be sent: no header, or several ranges (allowed by RFC 9110, which lets a server ignore Range).
   *
   * @throws UnsatisfiableException when the header is malformed or the range lies past the end
   */
  static @Nullable ByteRange parse(@Nullable String header, long size)
      throws UnsatisfiableException {
    if (header == null || header.isBlank()) {
      return null;
    }
    String spec = header.trim();
    if (!spec.startsWith("bytes=")) {
      throw new UnsatisfiableException("invalid range: " + header);
    }
    spec = spec.substring("bytes=".length()).trim();
    if (spec.contains(",")) {
      for (String part : spec.split(",")) {
        parseOne(part.trim(), size); // malformed or unsatisfiable parts still fail
      }
      return null;
    }
    return parseOne(spec, size);
  }

  private static ByteRange parseOne(String spec, long size) throws UnsatisfiableException {
    int dash = spec.indexOf('-');
    if (dash < 0) {
      throw new UnsatisfiableException("invalid range: " + spec);
    }
    String first = spec.substring(0, dash).trim();
    String last = spec.substring(dash + 1).trim();
    try {
      if (first.isEmpty()) {
        long suffix = Long.parseLong(last);
        if (suffix <= 0 || size == 0 || last.startsWith("+")) {
          throw new UnsatisfiableException("invalid range: " + spec);
        }
        long length = Math.min(suffix, size);
        return new ByteRange(size - length, length);
      }
      long start = Long.parseLong(first);
      if (start < 0 || first.startsWith("+")) {
        throw new UnsatisfiableException("invalid range: " + spec);
      }
      if (start >= size) {
        throw new UnsatisfiableException("invalid range: failed to overlap");
      }
      long end = size - 1;
      if (!last.isEmpty()) {
        end = Long.parseLong(last);
        if (end < start || last.startsWith("+")) {
          throw new UnsatisfiableException("invalid range: " + spec);
        }
        end = Math.min(end, size - 1);
      }
      return new ByteRange(start, end - start + 1);
    } catch (NumberFormatException e) {
      throw new UnsatisfiableException("invalid range: " + spec);
    }
  }
}
