package dev.sbx.envd.filesystem;

import dev.sbx.envd.user.SandboxUser;
import dev.sbx.envd.user.UserDirectory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/** A real user of this machine ({@code useradd}), removed again ({@code userdel -r}) on close. */
final class ThrowawayUser implements AutoCloseable {
  private final SandboxUser user;

  private ThrowawayUser(SandboxUser user) {
    this.user = user;
  }

  /** Creates a user whose home directory is {@code home} (created by useradd). */
  static ThrowawayUser create(Path home) throws IOException, InterruptedException {
    String name = "sbxfs" + ThreadLocalRandom.current().nextInt(100_000, 1_000_000);
    run(List.of("useradd", "-m", "-d", home.toString(), "-s", "/bin/sh", name));
    try {
      return new ThrowawayUser(UserDirectory.system().byName(name).orElseThrow());
    } catch (RuntimeException e) {
      run(List.of("userdel", "-r", name));
      throw e;
    }
  }

  SandboxUser user() {
    return user;
  }

  String name() {
    return user.name();
  }

  @Override
  public void close() throws IOException, InterruptedException {
    run(List.of("userdel", "-r", user.name()));
  }

  /** Runs a command, retrying while another process holds the passwd lock. */
  private static void run(List<String> command) throws IOException, InterruptedException {
    String output = "";
    for (int attempt = 0; attempt < 10; attempt++) {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IOException(command + " did not finish");
      }
      // userdel -r warns (exit 12) when the home directory is already gone: the user is removed
      if (process.exitValue() == 0
          || (command.get(0).equals("userdel") && process.exitValue() == 12)) {
        return;
      }
      if (!output.contains("lock")) {
        break;
      }
      Thread.sleep(200);
    }
    throw new IOException(command + " failed: " + output);
  }
}
