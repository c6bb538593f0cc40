package dev.sbx.sdk.internal;

import static java.util.Objects.requireNonNull;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.sbx.connect.ConnectException;
import dev.sbx.connect.ServerStream;
import dev.sbx.proto.filesystem.ListDirRequest;
import dev.sbx.proto.filesystem.ListDirResponse;
import dev.sbx.proto.filesystem.MakeDirRequest;
import dev.sbx.proto.filesystem.MakeDirResponse;
import dev.sbx.proto.filesystem.MoveRequest;
import dev.sbx.proto.filesystem.MoveResponse;
import dev.sbx.proto.filesystem.RemoveRequest;
import dev.sbx.proto.filesystem.RemoveResponse;
import dev.sbx.proto.filesystem.StatRequest;
import dev.sbx.proto.filesystem.StatResponse;
import dev.sbx.proto.filesystem.WatchDirRequest;
import dev.sbx.proto.filesystem.WatchDirResponse;
import dev.sbx.sdk.InvalidArgumentException;
import dev.sbx.sdk.NotFoundException;
import dev.sbx.sdk.SandboxException;
import dev.sbx.sdk.files.EntryInfo;
import dev.sbx.sdk.files.FileType;
import dev.sbx.sdk.files.Filesystem;
import dev.sbx.sdk.files.FilesystemEvent;
import dev.sbx.sdk.files.FilesystemEventType;
import dev.sbx.sdk.files.WatchHandle;
import dev.sbx.sdk.files.WatchOptions;
import dev.sbx.sdk.files.WriteEntry;
import dev.sbx.sdk.files.WriteInfo;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.StringJoiner;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/** {@link Filesystem} over envd's {@code /files} endpoint and {@code filesystem.Filesystem}. */
public final class EnvdFilesystem implements Filesystem {
  private final EnvdClient envd;

  public EnvdFilesystem(EnvdClient envd) {
    this.envd = requireNonNull(envd, "envd");
  }

  // ---- /files

  @Override
  public String read(String path, @Nullable String user) {
    return new String(readBytes(path, user), StandardCharsets.UTF_8);
  }

  @Override
  public byte[] readBytes(String path, @Nullable String user) {
    try (InputStream in = readStream(path, user)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new SandboxException("reading " + path + " from the sandbox failed: " + e, e);
    }
  }

  @Override
  public InputStream readStream(String path, @Nullable String user) {
    requireNonNull(path, "path");
    HttpRequest request = envd.request("/files" + filesQuery(path, user)).GET().build();
    HttpResponse<InputStream> response =
        envd.send(request, HttpResponse.BodyHandlers.ofInputStream());
    if (response.statusCode() != 200) {
      throw EnvdClient.httpError(response.statusCode(), response.body());
    }
    return response.body();
  }

  @Override
  public WriteInfo write(String path, String data, @Nullable String user) {
    requireNonNull(data, "data");
    return write(path, data.getBytes(StandardCharsets.UTF_8), user);
  }

  @Override
  public WriteInfo write(String path, byte[] data, @Nullable String user) {
    requireNonNull(path, "path");
    requireNonNull(data, "data");
    return single(upload(path, List.of(WriteEntry.of(path, data)), user), path);
  }

  @Override
  public WriteInfo write(String path, InputStream data, @Nullable String user) {
    requireNonNull(path, "path");
    requireNonNull(data, "data");
    try (data) {
      if (!envd.version().atLeast(EnvdVersion.V0_5_7)) {
        // older envd only takes multipart; the stream still is not buffered
        return single(upload(path, List.of(new WriteEntry(path, data)), user), path);
      }
      HttpRequest request =
          envd.request("/files" + filesQuery(path, user))
              .header("Content-Type", "application/octet-stream")
              .POST(HttpRequest.BodyPublishers.ofInputStream(() -> data))
              .build();
      return single(
          writeResponse(envd.send(request, HttpResponse.BodyHandlers.ofByteArray())), path);
    } catch (IOException e) {
      throw new SandboxException("closing the stream written to " + path + " failed: " + e, e);
    }
  }

  @Override
  public List<WriteInfo> write(List<WriteEntry> files, @Nullable String user) {
    requireNonNull(files, "files");
    if (files.isEmpty()) {
      return List.of();
    }
    // one file: E2B sends its path as the query parameter; several: only the part filenames
    return upload(files.size() == 1 ? files.get(0).path() : null, files, user);
  }

  private List<WriteInfo> upload(
      @Nullable String path, List<WriteEntry> files, @Nullable String user) {
    Multipart body = new Multipart(files);
    HttpRequest request =
        envd.request("/files" + filesQuery(path, user))
            .header("Content-Type", body.contentType())
            .POST(HttpRequest.BodyPublishers.ofInputStream(body::body))
            .build();
    return writeResponse(envd.send(request, HttpResponse.BodyHandlers.ofByteArray()));
  }

  private static WriteInfo single(List<WriteInfo> written, String path) {
    if (written.size() != 1) {
      throw new SandboxException(
          "envd reported " + written.size() + " written files for one write of " + path);
    }
    return written.get(0);
  }

  private static List<WriteInfo> writeResponse(HttpResponse<byte[]> response) {
    if (response.statusCode() != 200) {
      throw EnvdClient.httpError(response.statusCode(), response.body());
    }
    String text = new String(response.body(), StandardCharsets.UTF_8);
    List<WriteInfo> written = new ArrayList<>();
    try {
      JsonElement parsed = JsonParser.parseString(text);
      if (!parsed.isJsonArray()) {
        throw new SandboxException("envd answered a write with JSON that is not an array: " + text);
      }
      for (JsonElement element : parsed.getAsJsonArray()) {
        JsonObject o = element.getAsJsonObject();
        String type = o.has("type") ? o.get("type").getAsString() : "file";
        written.add(
            new WriteInfo(
                o.get("name").getAsString(),
                "dir".equals(type) ? FileType.DIR : FileType.FILE,
                o.get("path").getAsString()));
      }
    } catch (JsonParseException | IllegalStateException | NullPointerException e) {
      throw new SandboxException("envd answered a write with unexpected JSON: " + text, e);
    }
    return written;
  }

  private String filesQuery(@Nullable String path, @Nullable String user) {
    StringJoiner query = new StringJoiner("&", "?", "").setEmptyValue("");
    if (path != null) {
      query.add("path=" + UrlEncoding.component(path));
    }
    String effective = envd.effectiveUser(user);
    if (effective != null) {
      query.add("username=" + UrlEncoding.component(effective));
    }
    return query.toString();
  }

  // ---- filesystem.Filesystem

  @Override
  public List<EntryInfo> list(String path, int depth, @Nullable String user) {
    requireNonNull(path, "path");
    if (depth < 1) {
      throw new InvalidArgumentException("depth should be at least one");
    }
    ListDirResponse response =
        envd.unary(
            "filesystem.Filesystem/ListDir",
            ListDirRequest.newBuilder().setPath(path).setDepth(depth).build(),
            ListDirResponse.getDefaultInstance(),
            user);
    List<EntryInfo> entries = new ArrayList<>();
    response.getEntriesList().forEach(e -> entries.add(entry(e)));
    return entries;
  }

  @Override
  public boolean exists(String path, @Nullable String user) {
    try {
      getInfo(path, user);
      return true;
    } catch (NotFoundException e) {
      return false;
    }
  }

  @Override
  public EntryInfo getInfo(String path, @Nullable String user) {
    requireNonNull(path, "path");
    StatResponse response =
        envd.unary(
            "filesystem.Filesystem/Stat",
            StatRequest.newBuilder().setPath(path).build(),
            StatResponse.getDefaultInstance(),
            user);
    return entry(response.getEntry());
  }

  @Override
  public boolean makeDir(String path, @Nullable String user) {
    requireNonNull(path, "path");
    try {
      envd.unary(
          "filesystem.Filesystem/MakeDir",
          MakeDirRequest.newBuilder().setPath(path).build(),
          MakeDirResponse.getDefaultInstance(),
          user);
      return true;
    } catch (SandboxException e) {
      if (e.getCause() instanceof ConnectException connect
          && connect.code() == dev.sbx.connect.ConnectCode.ALREADY_EXISTS) {
        return false;
      }
      throw e;
    }
  }

  @Override
  public EntryInfo rename(String oldPath, String newPath, @Nullable String user) {
    requireNonNull(oldPath, "oldPath");
    requireNonNull(newPath, "newPath");
    MoveResponse response =
        envd.unary(
            "filesystem.Filesystem/Move",
            MoveRequest.newBuilder().setSource(oldPath).setDestination(newPath).build(),
            MoveResponse.getDefaultInstance(),
            user);
    return entry(response.getEntry());
  }

  @Override
  public void remove(String path, @Nullable String user) {
    requireNonNull(path, "path");
    envd.unary(
        "filesystem.Filesystem/Remove",
        RemoveRequest.newBuilder().setPath(path).build(),
        RemoveResponse.getDefaultInstance(),
        user);
  }

  @Override
  public WatchHandle watchDir(
      String path, Consumer<FilesystemEvent> onEvent, WatchOptions options) {
    requireNonNull(path, "path");
    requireNonNull(onEvent, "onEvent");
    requireNonNull(options, "options");
    if (options.recursive() && !envd.version().atLeast(EnvdVersion.V0_1_4)) {
      throw new TemplateTooOld("recursive watch", EnvdVersion.V0_1_4, envd.version());
    }
    if (options.includeEntry() && !envd.version().atLeast(EnvdVersion.V0_6_3)) {
      throw new TemplateTooOld("includeEntry on watch", EnvdVersion.V0_6_3, envd.version());
    }
    WatchDirRequest.Builder request = WatchDirRequest.newBuilder().setPath(path);
    request.setRecursive(options.recursive());
    request.setIncludeEntry(options.includeEntry());
    ServerStream<WatchDirResponse> stream =
        envd.stream(
            "filesystem.Filesystem/WatchDir",
            request.build(),
            WatchDirResponse.getDefaultInstance(),
            options.user(),
            options.timeout());
    try {
      WatchDirResponse first = stream.next();
      if (first == null || !first.hasStart()) {
        throw new SandboxException("Expected start event from envd's WatchDir, got " + first);
      }
    } catch (ConnectException e) {
      stream.close();
      throw EnvdClient.rpcError(e);
    } catch (RuntimeException e) {
      stream.close();
      throw e;
    }
    Watch watch = new Watch(stream, onEvent, options.onExit());
    Thread.ofVirtual().name("sbx-sdk-watch").start(watch::read);
    return watch;
  }

  private static final class Watch implements WatchHandle {
    private final ServerStream<WatchDirResponse> stream;
    private final Consumer<FilesystemEvent> onEvent;
    private final @Nullable Consumer<@Nullable Throwable> onExit;
    private final Object lock = new Object();
    private boolean stopped;

    Watch(
        ServerStream<WatchDirResponse> stream,
        Consumer<FilesystemEvent> onEvent,
        @Nullable Consumer<@Nullable Throwable> onExit) {
      this.stream = stream;
      this.onEvent = onEvent;
      this.onExit = onExit;
    }

    void read() {
      Throwable failure = null;
      try {
        for (WatchDirResponse message; (message = stream.next()) != null; ) {
          if (message.hasFilesystem()) {
            FilesystemEvent event = event(message.getFilesystem());
            if (event != null) {
              synchronized (lock) {
                if (stopped) {
                  return;
                }
                onEvent.accept(event);
              }
            }
          }
        }
      } catch (ConnectException e) {
        failure = EnvdClient.rpcError(e);
      } catch (RuntimeException e) {
        stream.close();
        failure = e;
      }
      synchronized (lock) {
        if (stopped) {
          return;
        }
        stopped = true;
      }
      if (onExit != null) {
        onExit.accept(failure);
      }
    }

    @Override
    public void stop() {
      synchronized (lock) {
        stopped = true;
      }
      stream.close();
    }
  }

  private static @Nullable FilesystemEvent event(dev.sbx.proto.filesystem.FilesystemEvent e) {
    FilesystemEventType type =
        switch (e.getType()) {
          case EVENT_TYPE_CREATE -> FilesystemEventType.CREATE;
          case EVENT_TYPE_WRITE -> FilesystemEventType.WRITE;
          case EVENT_TYPE_REMOVE -> FilesystemEventType.REMOVE;
          case EVENT_TYPE_RENAME -> FilesystemEventType.RENAME;
          case EVENT_TYPE_CHMOD -> FilesystemEventType.CHMOD;
          case EVENT_TYPE_UNSPECIFIED, UNRECOGNIZED -> null;
        };
    if (type == null) {
      return null;
    }
    return new FilesystemEvent(e.getName(), type, e.hasEntry() ? entry(e.getEntry()) : null);
  }

  static EntryInfo entry(dev.sbx.proto.filesystem.EntryInfo e) {
    FileType type =
        switch (e.getType()) {
          case FILE_TYPE_FILE -> FileType.FILE;
          case FILE_TYPE_DIRECTORY -> FileType.DIR;
          case FILE_TYPE_SYMLINK -> FileType.SYMLINK;
          case FILE_TYPE_UNSPECIFIED, UNRECOGNIZED -> FileType.UNKNOWN;
        };
    return new EntryInfo(
        e.getName(),
        type,
        e.getPath(),
        e.getSize(),
        e.getMode(),
        e.getPermissions(),
        e.getOwner(),
        e.getGroup(),
        Instant.ofEpochSecond(e.getModifiedTime().getSeconds(), e.getModifiedTime().getNanos()),
        e.hasSymlinkTarget() ? e.getSymlinkTarget() : null,
        e.getMetadataMap());
  }

  // ---- signed URLs

  @Override
  public String uploadUrl(
      @Nullable String path, @Nullable String user, @Nullable Duration signatureExpiration) {
    return fileUrl(path, user, "write", signatureExpiration);
  }

  @Override
  public String downloadUrl(
      String path, @Nullable String user, @Nullable Duration signatureExpiration) {
    requireNonNull(path, "path");
    return fileUrl(path, user, "read", signatureExpiration);
  }

  private String fileUrl(
      @Nullable String path,
      @Nullable String user,
      String operation,
      @Nullable Duration signatureExpiration) {
    String token = envd.accessToken();
    if (token == null && signatureExpiration != null) {
      throw new InvalidArgumentException(
          "Signature expiration can be used only when the sandbox is created as secured");
    }
    String effective = envd.effectiveUser(user);
    StringJoiner query = new StringJoiner("&", "?", "").setEmptyValue("");
    if (path != null) {
      query.add("path=" + UrlEncoding.form(path));
    }
    if (effective != null) {
      query.add("username=" + UrlEncoding.form(effective));
    }
    if (token != null) {
      Long expiration =
          signatureExpiration == null
              ? null
              : Instant.now().getEpochSecond() + ApiClient.seconds(signatureExpiration);
      query.add(
          "signature="
              + UrlEncoding.form(
                  signature(path == null ? "" : path, operation, effective, token, expiration)));
      if (expiration != null) {
        query.add("signature_expiration=" + expiration);
      }
    }
    return envd.config().fileUrlBase(envd.sandboxId(), envd.sandboxDomain()) + "/files" + query;
  }

  /**
   * envd's file signature: {@code "v1_" +
   * base64(sha256("<path>:<operation>:<user>:<token>[:<exp>]"))} without padding.
   */
  public static String signature(
      String path,
      String operation,
      @Nullable String user,
      String accessToken,
      @Nullable Long expiration) {
    String raw =
        path
            + ":"
            + operation
            + ":"
            + (user == null ? "" : user)
            + ":"
            + accessToken
            + (expiration == null ? "" : ":" + expiration);
    try {
      byte[] hash =
          MessageDigest.getInstance("SHA-256").digest(raw.getBytes(StandardCharsets.UTF_8));
      return "v1_" + Base64.getEncoder().withoutPadding().encodeToString(hash);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from the JDK", e);
    }
  }

  /** A feature the sandbox's envd is too old for. */
  private static final class TemplateTooOld extends dev.sbx.sdk.TemplateException {
    private static final long serialVersionUID = 1L;

    TemplateTooOld(String feature, EnvdVersion needed, EnvdVersion actual) {
      super(
          feature
              + " needs envd "
              + needed
              + " or newer, the sandbox runs "
              + actual
              + "; rebuild the template");
    }
  }
}
