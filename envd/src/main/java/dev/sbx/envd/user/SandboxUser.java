package dev.sbx.envd.user;

import java.nio.file.Path;
import java.util.List;

/**
 * A user of the sandbox, as {@code /etc/passwd} and {@code /etc/group} describe it.
 *
 * @param groups the supplementary group ids (from {@code /etc/group}), the primary group included
 */
public record SandboxUser(
    String name, int uid, int gid, Path home, String shell, List<Integer> groups) {

  public SandboxUser {
    groups = List.copyOf(groups);
  }

  public boolean isRoot() {
    return uid == 0;
  }
}
