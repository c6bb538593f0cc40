package dev.sbx.sdk.pty;

/**
 * A terminal size.
 *
 * @param cols columns, at least 1
 * @param rows rows, at least 1
 */
public record PtySize(int cols, int rows) {
  public PtySize {
    if (cols < 1 || rows < 1) {
      throw new dev.sbx.sdk.InvalidArgumentException(
          "PTY size must be at least 1x1, not " + cols + "x" + rows);
    }
  }
}
