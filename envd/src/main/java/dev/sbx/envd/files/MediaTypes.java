package dev.sbx.envd.files;

import java.net.FileNameMap;
import java.net.URLConnection;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code Content-Type} of a download, from the file name's extension, as Go's {@code
 * mime.TypeByExtension} gives it in E2B's envd (text types carry {@code charset=utf-8}); {@code
 * application/octet-stream} for unknown extensions.
 */
final class MediaTypes {
  static final String OCTET_STREAM = "application/octet-stream";

  private static final Map<String, String> COMMON =
      Map.ofEntries(
          Map.entry("avif", "image/avif"),
          Map.entry("css", "text/css; charset=utf-8"),
          Map.entry("gif", "image/gif"),
          Map.entry("htm", "text/html; charset=utf-8"),
          Map.entry("html", "text/html; charset=utf-8"),
          Map.entry("jpeg", "image/jpeg"),
          Map.entry("jpg", "image/jpeg"),
          Map.entry("js", "text/javascript; charset=utf-8"),
          Map.entry("json", "application/json"),
          Map.entry("mjs", "text/javascript; charset=utf-8"),
          Map.entry("pdf", "application/pdf"),
          Map.entry("png", "image/png"),
          Map.entry("svg", "image/svg+xml"),
          Map.entry("wasm", "application/wasm"),
          Map.entry("webp", "image/webp"),
          Map.entry("xml", "text/xml; charset=utf-8"),
          Map.entry("txt", "text/plain; charset=utf-8"),
          Map.entry("csv", "text/csv; charset=utf-8"),
          Map.entry("md", "text/markdown; charset=utf-8"),
          Map.entry("zip", "application/zip"),
          Map.entry("gz", "application/gzip"),
          Map.entry("tar", "application/x-tar"));

  private static final FileNameMap JDK_TYPES = URLConnection.getFileNameMap();

  private MediaTypes() {}

  static String of(String filename) {
    int dot = filename.lastIndexOf('.');
    if (dot < 0 || dot == filename.length() - 1) {
      return OCTET_STREAM;
    }
    String extension = filename.substring(dot + 1).toLowerCase(Locale.ROOT);
    String common = COMMON.get(extension);
    if (common != null) {
      return common;
    }
    String type = JDK_TYPES.getContentTypeFor("f." + extension);
    if (type == null || type.isEmpty()) {
      return OCTET_STREAM;
    }
    return type.startsWith("text/") && !type.contains("charset") ? type + "; charset=utf-8" : type;
  }
}
