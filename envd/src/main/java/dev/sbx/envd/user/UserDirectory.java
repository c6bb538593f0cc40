package dev.sbx.envd.user;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Looks users and groups up in {@code etc/passwd} and {@code etc/group} below a root directory.
 * Users added inside a running sandbox ({@code useradd}) must be seen at once, so every lookup
 * checks the files ({@code stat}: inode, size, modification time); they are parsed again only when
 * one of those changed ({@code useradd} writes a new file and renames it into place). Before, both
 * files were read and parsed on every request, and once per entry of a directory listing.
 */
public final class UserDirectory {
  private final CachedTable<PasswdEntry> passwd;
  private final CachedTable<GroupEntry> group;

  public UserDirectory(Path root) {
    this.passwd = new CachedTable<>(root.resolve("etc/passwd"), UserDirectory::parsePasswd);
    this.group = new CachedTable<>(root.resolve("etc/group"), UserDirectory::parseGroup);
  }

  /** The directory of the machine envd runs on. */
  public static UserDirectory system() {
    return new UserDirectory(Path.of("/"));
  }

  public Optional<SandboxUser> byName(String name) {
    return passwdEntries().stream()
        .filter(e -> e.name().equals(name))
        .findFirst()
        .map(this::toUser);
  }

  public Optional<SandboxUser> byUid(int uid) {
    return passwdEntries().stream().filter(e -> e.uid() == uid).findFirst().map(this::toUser);
  }

  /** The user name of a uid, or the number as text when no user has it. */
  public String userName(int uid) {
    return passwdEntries().stream()
        .filter(e -> e.uid() == uid)
        .findFirst()
        .map(PasswdEntry::name)
        .orElse(Integer.toString(uid));
  }

  /** The group name of a gid, or the number as text when no group has it. */
  public String groupName(int gid) {
    return groupEntries().stream()
        .filter(e -> e.gid() == gid)
        .findFirst()
        .map(GroupEntry::name)
        .orElse(Integer.toString(gid));
  }

  private SandboxUser toUser(PasswdEntry entry) {
    Set<Integer> groups = new LinkedHashSet<>();
    groups.add(entry.gid());
    for (GroupEntry g : groupEntries()) {
      if (g.members().contains(entry.name())) {
        groups.add(g.gid());
      }
    }
    return new SandboxUser(
        entry.name(),
        entry.uid(),
        entry.gid(),
        Path.of(entry.home().isEmpty() ? "/" : entry.home()),
        entry.shell(),
        List.copyOf(groups));
  }

  private record PasswdEntry(String name, int uid, int gid, String home, String shell) {}

  private record GroupEntry(String name, int gid, List<String> members) {}

  private List<PasswdEntry> passwdEntries() {
    return passwd.entries();
  }

  private List<GroupEntry> groupEntries() {
    return group.entries();
  }

  private static List<PasswdEntry> parsePasswd(List<String> lines) {
    List<PasswdEntry> entries = new ArrayList<>();
    for (String line : lines) {
      String[] f = line.split(":", -1);
      if (f.length < 7) {
        continue;
      }
      Integer uid = parseId(f[2]);
      Integer gid = parseId(f[3]);
      if (uid != null && gid != null) {
        entries.add(new PasswdEntry(f[0], uid, gid, f[5], f[6]));
      }
    }
    return List.copyOf(entries);
  }

  private static List<GroupEntry> parseGroup(List<String> lines) {
    List<GroupEntry> entries = new ArrayList<>();
    for (String line : lines) {
      String[] f = line.split(":", -1);
      if (f.length < 4) {
        continue;
      }
      Integer gid = parseId(f[2]);
      if (gid != null) {
        List<String> members = f[3].isEmpty() ? List.of() : List.of(f[3].split(","));
        entries.add(new GroupEntry(f[0], gid, members));
      }
    }
    return List.copyOf(entries);
  }

  /**
   * A file's parsed entries, parsed again when its identity, size or modification time changes. A
   * missing file has no entries.
   */
  private static final class CachedTable<T> {
    private record Version(@Nullable Object fileKey, long size, FileTime modified) {}

    private record Parsed<T>(@Nullable Version version, List<T> entries) {}

    private final Path file;
    private final Function<List<String>, List<T>> parser;
    private volatile Parsed<T> parsed = new Parsed<>(null, List.of());

    CachedTable(Path file, Function<List<String>, List<T>> parser) {
      this.file = file;
      this.parser = parser;
    }

    List<T> entries() {
      Version version = version();
      Parsed<T> current = parsed;
      if (version != null && version.equals(current.version())) {
        return current.entries();
      }
      if (version == null) {
        parsed = new Parsed<>(null, List.of());
        return List.of();
      }
      List<String> lines;
      try {
        lines =
            Files.readAllLines(file, StandardCharsets.UTF_8).stream()
                .filter(l -> !l.isBlank() && !l.startsWith("#"))
                .toList();
      } catch (NoSuchFileException e) {
        parsed = new Parsed<>(null, List.of());
        return List.of();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      List<T> entries = parser.apply(lines);
      // the version read before the content: a change while reading is seen by the next lookup
      parsed = new Parsed<>(version, entries);
      return entries;
    }

    private @Nullable Version version() {
      try {
        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
        return new Version(attributes.fileKey(), attributes.size(), attributes.lastModifiedTime());
      } catch (NoSuchFileException e) {
        return null;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private static @Nullable Integer parseId(String text) {
    try {
      return Integer.parseInt(text);
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
