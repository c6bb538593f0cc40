package dev.sbx.envd.user;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Looks users and groups up in {@code etc/passwd} and {@code etc/group} below a root directory. The
 * files are read on every lookup: they are small, and users added inside a running sandbox ({@code
 * useradd}) must be seen at once.
 */
public final class UserDirectory {
  private final Path passwd;
  private final Path group;

  public UserDirectory(Path root) {
    this.passwd = root.resolve("etc/passwd");
    this.group = root.resolve("etc/group");
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
    List<PasswdEntry> entries = new ArrayList<>();
    for (String line : lines(passwd)) {
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
    return entries;
  }

  private List<GroupEntry> groupEntries() {
    List<GroupEntry> entries = new ArrayList<>();
    for (String line : lines(group)) {
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
    return entries;
  }

  private static List<String> lines(Path file) {
    try {
      return Files.readAllLines(file, StandardCharsets.UTF_8).stream()
          .filter(l -> !l.isBlank() && !l.startsWith("#"))
          .toList();
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static @org.jspecify.annotations.Nullable Integer parseId(String text) {
    try {
      return Integer.parseInt(text);
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
