package dev.sbx.orchestrator.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * A minimal template rootfs for runtime tests, built in a second from Debian's busybox-static:
 * {@code bin/busybox} with a symlink per applet, {@code /etc/passwd} and {@code /etc/group} with
 * root and {@code user} (1000), {@code /tmp}, {@code /root}, {@code /home/user}.
 */
final class TestTemplate {
  static final Path HOST_BUSYBOX = Path.of("/bin/busybox");

  private TestTemplate() {}

  /** Builds the template rootfs in {@code dir} (created). */
  static Path build(Path dir) throws IOException, InterruptedException {
    if (!Files.isExecutable(HOST_BUSYBOX)) {
      throw new IllegalStateException(
          HOST_BUSYBOX + " missing: run scripts/install-deps.sh orchestrator (busybox-static)");
    }
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Files.copy(HOST_BUSYBOX, bin.resolve("busybox"));
    Process list = new ProcessBuilder(HOST_BUSYBOX.toString(), "--list").start();
    List<String> applets =
        new String(list.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    if (list.waitFor() != 0 || applets.isEmpty()) {
      throw new IllegalStateException("busybox --list failed");
    }
    for (String applet : applets) {
      if (!applet.equals("busybox")) {
        Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
      }
    }
    Path etc = Files.createDirectories(dir.resolve("etc"));
    Files.writeString(
        etc.resolve("passwd"),
        "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n");
    Files.writeString(etc.resolve("group"), "root:x:0:\nuser:x:1000:\n");
    Path tmp = Files.createDirectories(dir.resolve("tmp"));
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxrwxrwx"));
    tmp.toFile().setWritable(true, false);
    Files.createDirectories(dir.resolve("root"));
    Path home = Files.createDirectories(dir.resolve("home/user"));
    Files.setAttribute(home, "unix:uid", 1000);
    Files.setAttribute(home, "unix:gid", 1000);
    // sticky bit: chmod 1777 through the shell, NIO has no sticky bit
    Process chmod = new ProcessBuilder("chmod", "1777", tmp.toString()).start();
    if (chmod.waitFor() != 0) {
      throw new IllegalStateException("chmod 1777 " + tmp + " failed");
    }
    return dir;
  }
}
