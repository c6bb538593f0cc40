package dev.sbx.envd.files;

import java.nio.charset.StandardCharsets;

/**
 * {@code Content-Disposition: inline; filename=...} for a download (RFC 6266): a token is sent as
 * is, other ASCII names as a quoted string, and names with other characters as RFC 5987 {@code
 * filename*=UTF-8''...} (as Go's {@code mime.FormatMediaType} does).
 */
final class ContentDisposition {
  private static final String TSPECIALS = "()<>@,;:\\\"/[]?=";

  private ContentDisposition() {}

  static String inline(String filename) {
    if (!filename.isEmpty() && isToken(filename)) {
      return "inline; filename=" + filename;
    }
    if (isAscii(filename)) {
      StringBuilder quoted = new StringBuilder("inline; filename=\"");
      for (char c : filename.toCharArray()) {
        if (c == '"' || c == '\\') {
          quoted.append('\\');
        }
        quoted.append(c);
      }
      return quoted.append('"').toString();
    }
    StringBuilder encoded = new StringBuilder("inline; filename*=utf-8''");
    for (byte b : filename.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (c < 0x80 && isTokenChar((char) c) && c != '*' && c != '\'' && c != '%') {
        encoded.append((char) c);
      } else {
        encoded.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)));
        encoded.append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return encoded.toString();
  }

  private static boolean isToken(String s) {
    for (char c : s.toCharArray()) {
      if (!isTokenChar(c)) {
        return false;
      }
    }
    return true;
  }

  private static boolean isTokenChar(char c) {
    return c > 0x20 && c < 0x7f && TSPECIALS.indexOf(c) < 0;
  }

  private static boolean isAscii(String s) {
    for (char c : s.toCharArray()) {
      if (c < 0x20 || c >= 0x7f) {
        return false;
      }
    }
    return true;
  }
}
