package dev.sbx.envd.files;

import static java.util.Objects.requireNonNull;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.sbx.envd.SandboxSettings;
import dev.sbx.envd.files.UrlSignature.Operation;
import dev.sbx.envd.http.HttpStatusException;
import dev.sbx.envd.http.JsonResponses;
import dev.sbx.envd.http.QueryParameters;
import dev.sbx.envd.user.OwnedPaths;
import dev.sbx.envd.user.RequestUsers;
import dev.sbx.envd.user.SandboxUser;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;
import org.jspecify.annotations.Nullable;

/**
 * {@code POST /files?path=&username=&signature=&signature_expiration=}: writes files from the
 * request body as it streams in, never holding a file in memory.
 *
 * <ul>
 *   <li>{@code multipart/form-data}: every part named {@code file} is a file; its target is the
 *       {@code path} parameter or else the part's raw {@code filename}, directories included; other
 *       parts are skipped; two parts with one target are a 400.
 *   <li>{@code application/octet-stream}: the body is the file at {@code path} (required).
 *   <li>{@code Content-Encoding: gzip} is decoded for either.
 * </ul>
 *
 * <p>Missing parent directories are created owned by the user; the file is created or truncated in
 * place (E2B's semantics: its inode, mode and links stay) and given to the user. {@code
 * X-Metadata-<key>} headers replace the file's {@code user.e2b.*} attributes (see {@link
 * FileMetadata}). When writing a file fails (a full disk or quota is 507; a broken body 400), the
 * partly written file is deleted, so no upload leaves a truncated file behind. Replies 200 with
 * {@code [{"name","type":"file","path"[,"metadata"]}]}.
 */
public final class FileUpload implements HttpHandler {
  private static final Logger LOG = System.getLogger(FileUpload.class.getName());
  private static final int CHUNK = 64 * 1024;
  private static final long MAX_DRAIN_BYTES = 1L << 30;

  private final FileAccess access;

  public FileUpload(SandboxSettings settings, RequestUsers users) {
    this(settings, users, Clock.systemUTC());
  }

  FileUpload(SandboxSettings settings, RequestUsers users, Clock clock) {
    this.access =
        new FileAccess(requireNonNull(settings, "settings"), requireNonNull(users, "users"), clock);
  }

  /** The request body could not be read or decoded (as opposed to the file not being written). */
  private static final class BodyException extends IOException {
    private static final long serialVersionUID = 1L;

    BodyException(IOException cause) {
      super(cause.getMessage(), cause);
    }
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    InputStream raw = exchange.getRequestBody();
    try {
      JsonArray entries = upload(exchange, raw);
      JsonResponses.send(exchange, 200, entries);
    } catch (HttpStatusException e) {
      drain(raw); // so that the client, still sending, reads the error instead of a reset
      throw e;
    }
  }

  private JsonArray upload(HttpExchange exchange, InputStream raw) throws IOException {
    QueryParameters query = access.authorize(exchange, Operation.WRITE);
    SandboxUser user = access.user(exchange, query);
    Map<String, String> metadata = FileMetadata.fromHeaders(exchange.getRequestHeaders());
    InputStream body = decoded(exchange, raw);
    String path = query.get("path");
    String contentTypeHeader = exchange.getRequestHeaders().getFirst("Content-Type");
    HeaderParameters contentType = HeaderParameters.parse(contentTypeHeader);
    JsonArray entries = new JsonArray();
    if (contentType.value().equals("application/octet-stream")) {
      if (path == null) {
        throw new HttpStatusException(400, "path query parameter is required for raw body upload");
      }
      entries.add(write(access.resolve(path, user), body, user, metadata));
    } else if (contentType.value().startsWith("multipart/")) {
      String boundary = contentType.get("boundary");
      if (boundary == null
          || boundary.isEmpty()
          || boundary.length() > MultipartStream.MAX_BOUNDARY_LENGTH) {
        throw new HttpStatusException(400, "error parsing multipart form: invalid boundary");
      }
      MultipartStream parts = new MultipartStream(body, boundary);
      Set<Path> written = new HashSet<>();
      while (true) {
        MultipartStream.Part part;
        try {
          part = parts.next();
        } catch (IOException e) {
          throw bodyError(e instanceof BodyException ? e : new BodyException(e));
        }
        if (part == null) {
          break;
        }
        HeaderParameters disposition = HeaderParameters.parse(part.header("Content-Disposition"));
        if (!disposition.value().equals("form-data") || !"file".equals(disposition.get("name"))) {
          continue;
        }
        String target = path != null ? path : disposition.get("filename");
        if (target == null) {
          throw new HttpStatusException(
              400, "error getting multipart custom part file name: the part has no filename");
        }
        Path resolved = access.resolve(target, user);
        if (!written.add(resolved)) {
          throw new HttpStatusException(
              400,
              "you cannot upload multiple files to the same path '"
                  + resolved
                  + "' in one upload request, only the first specified file was uploaded");
        }
        entries.add(write(resolved, new ReadErrors(part.body()), user, metadata));
      }
    } else {
      throw new HttpStatusException(
          400,
          "unsupported content type: "
              + (contentTypeHeader == null ? "" : contentTypeHeader)
              + ", expected multipart/form-data or application/octet-stream");
    }
    return entries;
  }

  private static InputStream decoded(HttpExchange exchange, InputStream raw) {
    String header = exchange.getRequestHeaders().getFirst("Content-Encoding");
    String encoding = header == null ? "" : header.split(";")[0].trim().toLowerCase(Locale.ROOT);
    if (encoding.isEmpty() || encoding.equals("identity")) {
      return new ReadErrors(raw);
    }
    if (!encoding.equals("gzip") && !encoding.equals("x-gzip")) {
      throw new HttpStatusException(
          400, "unsupported Content-Encoding: " + header + ", supported: [gzip]");
    }
    try {
      return new ReadErrors(new GZIPInputStream(raw, CHUNK));
    } catch (IOException e) {
      throw new HttpStatusException(400, "error decompressing request body: " + e.getMessage(), e);
    }
  }

  /** Writes one file and describes it. */
  private static JsonObject write(
      Path target, InputStream content, SandboxUser user, Map<String, String> metadata) {
    Path parent = target.getParent();
    try {
      if (parent != null) {
        OwnedPaths.createDirectories(parent, user);
      }
    } catch (FileAlreadyExistsException e) {
      throw new HttpStatusException(
          400, "error ensuring directories: " + e.getFile() + " exists and is not a directory", e);
    } catch (IOException e) {
      throw writeError("error ensuring directories", e);
    }
    if (Files.isDirectory(target)) {
      throw new HttpStatusException(400, "path is a directory: " + target);
    }
    FileChannel file;
    try {
      file =
          FileChannel.open(
              target,
              StandardOpenOption.WRITE,
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING);
    } catch (IOException e) {
      throw isNoSpace(e)
          ? new HttpStatusException(507, "not enough inodes available: " + e.getMessage(), e)
          : new HttpStatusException(500, "error opening file: " + e.getMessage(), e);
    }
    try {
      try (file) {
        OwnedPaths.chown(target.toRealPath(), user);
        copy(content, file);
      }
      try {
        FileMetadata.write(target, metadata);
      } catch (IOException e) {
        if (!FileMetadata.isUnsupported(e)) {
          throw e;
        }
        LOG.log(Level.WARNING, "{0} has no extended attributes; metadata not kept", target);
      }
    } catch (IOException | RuntimeException e) {
      deletePartial(target);
      if (e instanceof BodyException body) {
        throw bodyError(body);
      }
      if (e instanceof IOException io) {
        throw writeError("error writing file", io);
      }
      throw (RuntimeException) e;
    }
    return entry(target);
  }

  private static void copy(InputStream in, FileChannel out) throws IOException {
    byte[] chunk = new byte[CHUNK];
    ByteBuffer buffer = ByteBuffer.wrap(chunk);
    int n;
    while ((n = in.read(chunk)) >= 0) {
      buffer.clear().limit(n);
      while (buffer.hasRemaining()) {
        out.write(buffer);
      }
    }
  }

  private static JsonObject entry(Path target) {
    JsonObject entry = new JsonObject();
    Path name = target.getFileName();
    entry.addProperty("name", name == null ? "" : name.toString());
    entry.addProperty("type", "file");
    entry.addProperty("path", target.toString());
    try {
      Map<String, String> stored = FileMetadata.read(target);
      if (!stored.isEmpty()) {
        JsonObject metadata = new JsonObject();
        stored.forEach(metadata::addProperty);
        entry.add("metadata", metadata);
      }
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "could not read back the metadata of {0}: {1}", target, e.toString());
    }
    return entry;
  }

  private static void deletePartial(Path target) {
    try {
      Files.deleteIfExists(target);
    } catch (IOException e) {
      LOG.log(Level.WARNING, "could not delete the partial upload {0}: {1}", target, e.toString());
    }
  }

  private static HttpStatusException bodyError(IOException e) {
    Throwable cause = e.getCause() != null ? e.getCause() : e;
    if (cause instanceof ZipException || cause.getCause() instanceof ZipException) {
      return new HttpStatusException(
          400, "error decompressing request body: " + cause.getMessage(), e);
    }
    return new HttpStatusException(400, "error reading request body: " + cause.getMessage(), e);
  }

  private static HttpStatusException writeError(String what, IOException e) {
    if (isNoSpace(e)) {
      return new HttpStatusException(
          507, "not enough disk space available: " + what + ": " + e.getMessage(), e);
    }
    return new HttpStatusException(500, what + ": " + e.getMessage(), e);
  }

  /** ENOSPC or EDQUOT, as the JDK reports them. */
  static boolean isNoSpace(@Nullable Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String text = t instanceof FileSystemException fse ? fse.getReason() : t.getMessage();
      if (text != null
          && (text.contains("No space left on device") || text.contains("Disk quota exceeded"))) {
        return true;
      }
    }
    return false;
  }

  private static void drain(InputStream raw) {
    byte[] scratch = new byte[CHUNK];
    long drained = 0;
    try {
      int n;
      while (drained < MAX_DRAIN_BYTES && (n = raw.read(scratch)) >= 0) {
        drained += n;
      }
    } catch (IOException e) {
      // the client is gone; nothing left to drain
    }
  }

  /** Marks every failure to read the body, so it is told apart from failures to write. */
  private static final class ReadErrors extends InputStream {
    private final InputStream in;

    ReadErrors(InputStream in) {
      this.in = in;
    }

    @Override
    public int read() throws IOException {
      try {
        return in.read();
      } catch (BodyException e) {
        throw e;
      } catch (IOException e) {
        throw new BodyException(e);
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        return in.read(b, off, len);
      } catch (BodyException e) {
        throw e;
      } catch (IOException e) {
        throw new BodyException(e);
      }
    }
  }
}
