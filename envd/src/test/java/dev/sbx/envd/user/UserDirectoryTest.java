package dev.sbx.envd.user;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UserDirectoryTest {
  @TempDir Path root;

  @Test
  void usersAddedAfterALookupAreSeenAtOnce() throws Exception {
    Path etc = Files.createDirectories(root.resolve("etc"));
    Files.writeString(etc.resolve("passwd"), "root:x:0:0:root:/root:/bin/sh\n");
    Files.writeString(etc.resolve("group"), "root:x:0:\n");
    UserDirectory users = new UserDirectory(root);
    assertThat(users.byName("root")).map(SandboxUser::uid).contains(0);
    assertThat(users.byName("anna")).isEmpty();
    assertThat(users.userName(1001)).isEqualTo("1001");

    // appended in place, as `echo ... >> /etc/passwd` does
    Files.writeString(
        etc.resolve("passwd"), "anna:x:1001:1001::/home/anna:/bin/sh\n", StandardOpenOption.APPEND);
    assertThat(users.byName("anna")).map(SandboxUser::home).contains(Path.of("/home/anna"));
    assertThat(users.userName(1001)).isEqualTo("anna");

    // a new file renamed into place, as useradd does; and a new group with anna in it
    Path next = etc.resolve("passwd+");
    Files.writeString(
        next,
        "root:x:0:0:root:/root:/bin/sh\n"
            + "anna:x:1001:1001::/home/anna:/bin/sh\n"
            + "ben:x:1002:1002::/home/ben:/bin/sh\n");
    Files.move(next, etc.resolve("passwd"), StandardCopyOption.ATOMIC_MOVE);
    Path nextGroup = etc.resolve("group+");
    Files.writeString(nextGroup, "root:x:0:\nanna:x:1001:\ndev:x:2000:anna\n");
    Files.move(nextGroup, etc.resolve("group"), StandardCopyOption.ATOMIC_MOVE);
    assertThat(users.byName("ben")).map(SandboxUser::uid).contains(1002);
    assertThat(users.byName("anna"))
        .map(SandboxUser::groups)
        .hasValue(java.util.List.of(1001, 2000));
    assertThat(users.groupName(2000)).isEqualTo("dev");

    // removed: nobody is known any more
    Files.delete(etc.resolve("passwd"));
    assertThat(users.byName("root")).isEmpty();
  }
}
