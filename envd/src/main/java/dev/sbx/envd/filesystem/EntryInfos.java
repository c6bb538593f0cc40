package dev.sbx.envd.filesystem;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Timestamp;
import dev.sbx.envd.linux.LinuxFiles;
import dev.sbx.envd.user.UserDirectory;
import dev.sbx.proto.filesystem.EntryInfo;
import dev.sbx.proto.filesystem.FileType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Builds the {@link EntryInfo} of a path, field for field as E2B's envd fills it:
 *
 * <ul>
 *   <li>{@code name}, {@code path}, {@code size}, {@code permissions} (Go {@code FileMode} text),
 *       {@code owner}, {@code group} and {@code modified_time} describe the path itself ({@code
 *       lstat}): for a symlink, the link (permissions {@code Lrwxrwxrwx}).
 *   <li>{@code type} and {@code mode} (permission bits only) describe a symlink's final target;
 *       {@code symlink_target} is that target's real path. Other types than file and directory
 *       (FIFO, socket, device) are {@code FILE_TYPE_UNSPECIFIED}.
 *   <li>A dangling (or looping) symlink has type {@code FILE_TYPE_SYMLINK}, mode 0 (there are no
 *       target permissions), and as {@code symlink_target} the path its link text names, resolved
 *       against the link's directory. (E2B reports such a link as {@code FILE_TYPE_UNSPECIFIED} and
 *       names the link itself as its target, which tells a client nothing.)
 *   <li>{@code metadata} is the extended attributes {@code user.e2b.<key>} (symlinks followed),
 *       prefix stripped; attributes that are not UTF-8 are left out, and a filesystem without
 *       extended attributes gives an empty map.
 *   <li>{@code owner} and {@code group} are names from the sandbox's {@code /etc/passwd} and {@code
 *       /etc/group}, or the numeric id when there is none.
 * </ul>
 *
 * <p>An instance remembers the user and group names it has looked up: make one per request.
 */
public final class EntryInfos {
  /** The extended attribute namespace of E2B's file metadata. */
  public static final String METADATA_PREFIX = "user.e2b.";

  private static final String UNIX_ATTRIBUTES = "unix:mode,uid,gid,size,lastModifiedTime";

  private final UserDirectory users;
  private final Map<Integer, String> userNames = new HashMap<>();
  private final Map<Integer, String> groupNames = new HashMap<>();

  public EntryInfos(UserDirectory users) {
    this.users = requireNonNull(users, "users");
  }

  /**
   * The entry of {@code path} (the path is reported as given; it should be absolute).
   *
   * @throws NoSuchFileException when nothing exists at {@code path}
   */
  public EntryInfo of(Path path) throws IOException {
    return describe(requireNonNull(path, "path")).info();
  }

  /** An entry and the {@code st_mode} of the path itself (not of a symlink's target). */
  record Described(EntryInfo info, int mode) {
    boolean isDirectory() {
      return GoFileMode.isDirectory(mode);
    }
  }

  Described describe(Path path) throws IOException {
    Map<String, Object> attributes =
        Files.readAttributes(path, UNIX_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
    int mode = (Integer) requireNonNull(attributes.get("mode"), "mode");
    int uid = (Integer) requireNonNull(attributes.get("uid"), "uid");
    int gid = (Integer) requireNonNull(attributes.get("gid"), "gid");
    long size = (Long) requireNonNull(attributes.get("size"), "size");
    FileTime modified = (FileTime) requireNonNull(attributes.get("lastModifiedTime"), "mtime");

    EntryInfo.Builder entry =
        EntryInfo.newBuilder()
            .setName(name(path))
            .setPath(path.toString())
            .setSize(size)
            .setPermissions(GoFileMode.text(mode))
            .setOwner(userNames.computeIfAbsent(uid, users::userName))
            .setGroup(groupNames.computeIfAbsent(gid, users::groupName))
            .setModifiedTime(timestamp(modified.toInstant()));
    if (GoFileMode.isSymlink(mode)) {
      describeSymlinkTarget(path, entry);
    } else {
      entry.setType(fileType(mode)).setMode(mode & 0777);
    }
    entry.putAllMetadata(metadata(path));
    return new Described(entry.build(), mode);
  }

  private static void describeSymlinkTarget(Path link, EntryInfo.Builder entry) throws IOException {
    Path target;
    int targetMode;
    try {
      target = link.toRealPath();
      targetMode = (Integer) Files.getAttribute(target, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      // Dangling or looping (the link itself exists: it was just read). When the link is gone
      // meanwhile, reading it fails with NoSuchFileException, which is the right answer too.
      Path text = Files.readSymbolicLink(link);
      Path parent = link.toAbsolutePath().getParent();
      Path named = parent == null ? text : parent.resolve(text).normalize();
      entry.setType(FileType.FILE_TYPE_SYMLINK).setMode(0).setSymlinkTarget(named.toString());
      return;
    }
    entry
        .setType(fileType(targetMode))
        .setMode(targetMode & 0777)
        .setSymlinkTarget(target.toString());
  }

  private static FileType fileType(int mode) {
    if (GoFileMode.isDirectory(mode)) {
      return FileType.FILE_TYPE_DIRECTORY;
    }
    if (GoFileMode.isRegular(mode)) {
      return FileType.FILE_TYPE_FILE;
    }
    return FileType.FILE_TYPE_UNSPECIFIED;
  }

  private static String name(Path path) {
    Path name = path.getFileName();
    return name == null ? path.toString() : name.toString();
  }

  static Timestamp timestamp(Instant instant) {
    return Timestamp.newBuilder()
        .setSeconds(instant.getEpochSecond())
        .setNanos(instant.getNano())
        .build();
  }

  /** The {@code user.e2b.*} attributes, prefix stripped; empty when there are none or no xattrs. */
  static Map<String, String> metadata(Path path) {
    Map<String, String> metadata = new TreeMap<>();
    try {
      for (String attribute : LinuxFiles.listAttributes(path)) {
        if (!attribute.startsWith(METADATA_PREFIX)) {
          continue;
        }
        Optional<byte[]> value = LinuxFiles.getAttribute(path, attribute);
        if (value.isEmpty()) {
          continue;
        }
        String text = utf8(value.get());
        if (text != null) {
          metadata.put(attribute.substring(METADATA_PREFIX.length()), text);
        }
      }
    } catch (IOException e) {
      // A dangling link, a file removed meanwhile, or a filesystem that refuses: no metadata.
      return Map.of();
    }
    return metadata;
  }

  private static @Nullable String utf8(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }
}
