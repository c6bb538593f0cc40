package dev.sbx.envd.dist;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Run inside the bare rootfs by {@link EnvdDistIT} with the dist's JVM: prints its file name
 * encoding, creates and deletes a file with a non-ASCII name in {@code args[0]}, then runs the
 * command in the remaining arguments with {@link ProcessBuilder} (the JDK's jspawnhelper) and
 * prints what it wrote.
 */
public final class SpawnProbe {
  private SpawnProbe() {}

  public static void main(String[] args) throws IOException, InterruptedException {
    System.out.println("sun.jnu.encoding=" + System.getProperty("sun.jnu.encoding"));
    Path file = Path.of(args[0], "zoë-ファイル.txt");
    Files.writeString(file, "x");
    System.out.println("created " + file.getFileName());
    Files.delete(file);
    Process child =
        new ProcessBuilder(Arrays.asList(args).subList(1, args.length))
            .redirectErrorStream(true)
            .start();
    String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    System.out.println("child exit " + child.waitFor() + ": " + output.strip());
  }
}
