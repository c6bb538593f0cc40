package dev.sbx.envd.files;

import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.sbx.envd.SandboxSettings;
import dev.sbx.envd.files.UrlSignature.Operation;
import dev.sbx.envd.http.HttpStatusException;
import dev.sbx.envd.http.JsonResponses;
import dev.sbx.envd.http.QueryParameters;
import dev.sbx.envd.user.RequestUsers;
import dev.sbx.envd.user.SandboxUser;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.zip.GZIPOutputStream;
import org.jspecify.annotations.Nullable;

/**
 * {@code GET /files?path=&username=&signature=&signature_expiration=}: streams a file, never
 * holding it in memory. Identity replies behave like Go's {@code http.ServeContent} in E2B's envd:
 * {@code Accept-Ranges}, {@code Last-Modified}, one byte range (206, or 416 with {@code
 * Content-Range: bytes *}/size; several ranges get the whole file), {@code If-Modified-Since} /
 * {@code If-None-Match: *} (304), {@code If-Unmodified-Since} (412), {@code If-Range} by date. With
 * {@code Accept-Encoding: gzip} the body is gzipped (no length), unless the request has a Range or
 * a condition, which forces identity. Errors: 400 directory or bad path, 401 access or unknown
 * user, 404 missing, 406 no acceptable encoding, 500 otherwise.
 */
public final class FileDownload implements HttpHandler {
  private static final int CHUNK = 64 * 1024;

  private final FileAccess access;

  public FileDownload(SandboxSettings settings, RequestUsers users) {
    this(settings, users, Clock.systemUTC());
  }

  FileDownload(SandboxSettings settings, RequestUsers users, Clock clock) {
    this.access =
        new FileAccess(requireNonNull(settings, "settings"), requireNonNull(users, "users"), clock);
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    QueryParameters query = access.authorize(exchange, Operation.READ);
    SandboxUser user = access.user(exchange, query);
    String given = query.get("path");
    Path path = access.resolve(given == null ? "" : given, user);
    BasicFileAttributes attributes;
    try {
      attributes = Files.readAttributes(path, BasicFileAttributes.class);
    } catch (NoSuchFileException e) {
      throw new HttpStatusException(404, "path '" + path + "' does not exist", e);
    } catch (IOException e) {
      throw new HttpStatusException(
          500, "error checking if path exists '" + path + "': " + e.getMessage(), e);
    }
    if (attributes.isDirectory()) {
      throw new HttpStatusException(400, "path '" + path + "' is a directory");
    }
    Headers request = exchange.getRequestHeaders();
    AcceptEncoding encoding = AcceptEncoding.choose(request.getFirst("Accept-Encoding"));
    if (encoding == AcceptEncoding.NONE_ACCEPTABLE) {
      throw new HttpStatusException(406, "no acceptable encoding found, supported: [gzip]");
    }
    boolean rangeOrConditional =
        request.containsKey("Range")
            || request.containsKey("If-Modified-Since")
            || request.containsKey("If-Unmodified-Since")
            || request.containsKey("If-None-Match")
            || request.containsKey("If-Range");
    Headers response = exchange.getResponseHeaders();
    response.set("Vary", "Accept-Encoding");
    Path name = path.getFileName();
    String filename = name == null ? "" : name.toString();
    response.set("Content-Type", MediaTypes.of(filename));
    response.set("Content-Disposition", ContentDisposition.inline(filename));
    try (FileChannel file = open(path)) {
      if (encoding == AcceptEncoding.GZIP && !rangeOrConditional) {
        response.set("Content-Encoding", "gzip");
        exchange.sendResponseHeaders(200, 0);
        try (OutputStream out = new GZIPOutputStream(exchange.getResponseBody(), CHUNK)) {
          copy(file, 0, Long.MAX_VALUE, out);
        }
        return;
      }
      serveIdentity(exchange, file, attributes);
    }
  }

  private static FileChannel open(Path path) {
    try {
      return FileChannel.open(path, StandardOpenOption.READ);
    } catch (IOException e) {
      throw new HttpStatusException(500, "error opening file '" + path + "': " + e.getMessage(), e);
    }
  }

  private static void serveIdentity(
      HttpExchange exchange, FileChannel file, BasicFileAttributes attributes) throws IOException {
    Headers request = exchange.getRequestHeaders();
    Headers response = exchange.getResponseHeaders();
    Instant modified = attributes.lastModifiedTime().toInstant().truncatedTo(ChronoUnit.SECONDS);
    long size = file.size();
    if (modified.isAfter(Instant.EPOCH)) {
      response.set("Last-Modified", httpDate(modified));
    }
    response.set("Accept-Ranges", "bytes");

    Instant unmodifiedSince = parseHttpDate(request.getFirst("If-Unmodified-Since"));
    if (unmodifiedSince != null && modified.isAfter(unmodifiedSince)) {
      throw new HttpStatusException(412, "precondition failed: modified since " + unmodifiedSince);
    }
    String noneMatch = request.getFirst("If-None-Match");
    Instant modifiedSince = parseHttpDate(request.getFirst("If-Modified-Since"));
    if ((noneMatch != null && noneMatch.trim().equals("*"))
        || (noneMatch == null && modifiedSince != null && !modified.isAfter(modifiedSince))) {
      response.remove("Content-Type");
      exchange.sendResponseHeaders(304, -1);
      return;
    }

    String rangeHeader = request.getFirst("Range");
    String ifRange = request.getFirst("If-Range");
    if (ifRange != null && !modified.equals(parseHttpDate(ifRange))) {
      rangeHeader = null; // the client's copy is stale: it gets the whole file
    }
    ByteRange range;
    try {
      range = ByteRange.parse(rangeHeader, size);
    } catch (ByteRange.UnsatisfiableException e) {
      response.set("Content-Range", "bytes */" + size);
      JsonResponses.sendError(exchange, 416, String.valueOf(e.getMessage()));
      return;
    }
    if (range == null) {
      exchange.sendResponseHeaders(200, size == 0 ? -1 : size);
      if (size > 0) {
        try (OutputStream out = exchange.getResponseBody()) {
          copy(file, 0, size, out);
        }
      }
      return;
    }
    response.set("Content-Range", range.contentRange(size));
    exchange.sendResponseHeaders(206, range.length());
    try (OutputStream out = exchange.getResponseBody()) {
      copy(file, range.start(), range.length(), out);
    }
  }

  /** Copies up to {@code length} bytes from {@code position} (fewer if the file is shorter). */
  private static void copy(FileChannel file, long position, long length, OutputStream out)
      throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
    long remaining = length;
    long at = position;
    while (remaining > 0) {
      buffer.clear();
      if (remaining < buffer.capacity()) {
        buffer.limit((int) remaining);
      }
      int n = file.read(buffer, at);
      if (n < 0) {
        break;
      }
      out.write(buffer.array(), 0, n);
      at += n;
      remaining -= n;
    }
  }

  private static final DateTimeFormatter HTTP_DATE =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US);

  static String httpDate(Instant instant) {
    return HTTP_DATE.format(instant.atZone(ZoneOffset.UTC));
  }

  private static @Nullable Instant parseHttpDate(@Nullable String text) {
    if (text == null) {
      return null;
    }
    try {
      return ZonedDateTime.parse(text.trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
