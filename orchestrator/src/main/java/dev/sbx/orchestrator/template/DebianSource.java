package dev.sbx.orchestrator.template;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Where this machine's apt gets a Debian suite from: the URI and keyring ({@code Signed-By}) of the
 * first {@code deb} entry serving the suite in {@code /etc/apt/sources.list.d/*.sources} (deb822),
 * then {@code /etc/apt/sources.list} and {@code sources.list.d/*.list} (one-line). Templates are
 * built from the same source the host installs from; no mirror is ever named in code.
 *
 * @param uri the archive's URI, for example {@code http://deb.debian.org/debian}
 * @param suite the suite, for example {@code bookworm}
 * @param signedBy the keyring file apt checks the suite with, or null if the entry names none
 */
public record DebianSource(String uri, String suite, @Nullable String signedBy) {

  public DebianSource {
    requireNonNull(uri, "uri");
    requireNonNull(suite, "suite");
  }

  /** The host's source of {@code suite}, from {@code /etc/apt}. */
  public static Optional<DebianSource> find(String suite) {
    return find(Path.of("/etc/apt"), suite);
  }

  /** The source of {@code suite} in the apt configuration below {@code aptDir}. */
  static Optional<DebianSource> find(Path aptDir, String suite) {
    requireNonNull(suite, "suite");
    try {
      for (Path file : sorted(aptDir.resolve("sources.list.d"), "*.sources")) {
        Optional<DebianSource> found = fromDeb822(Files.readString(file), suite);
        if (found.isPresent()) {
          return found;
        }
      }
      List<Path> oneLine = new ArrayList<>();
      if (Files.isRegularFile(aptDir.resolve("sources.list"))) {
        oneLine.add(aptDir.resolve("sources.list"));
      }
      oneLine.addAll(sorted(aptDir.resolve("sources.list.d"), "*.list"));
      for (Path file : oneLine) {
        Optional<DebianSource> found = fromOneLine(Files.readString(file), suite);
        if (found.isPresent()) {
          return found;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("reading the apt sources in " + aptDir + " failed", e);
    }
    return Optional.empty();
  }

  /**
   * The entry as an mmdebstrap mirror argument (a {@code sources.list} line): {@code deb
   * [signed-by=<keyring>] <uri> <suite> <components>}.
   */
  public String sourcesListLine(String components) {
    return "deb "
        + (signedBy == null ? "" : "[signed-by=" + signedBy + "] ")
        + uri
        + " "
        + suite
        + " "
        + components;
  }

  /** The same archive and keyring for another suite (bookworm → bookworm-updates). */
  public DebianSource withSuite(String suite) {
    return new DebianSource(uri, suite, signedBy);
  }

  private static List<Path> sorted(Path dir, String glob) throws IOException {
    List<Path> files = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return files;
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, glob)) {
      for (Path entry : entries) {
        if (Files.isRegularFile(entry)) {
          files.add(entry);
        }
      }
    }
    files.sort(null);
    return files;
  }

  /** The first stanza with {@code Types: deb} whose {@code Suites} include {@code suite}. */
  static Optional<DebianSource> fromDeb822(String text, String suite) {
    List<String> stanza = new ArrayList<>();
    for (String line : (text + "\n\n").lines().toList()) {
      if (line.isBlank()) {
        Optional<DebianSource> found = stanza(stanza, suite);
        if (found.isPresent()) {
          return found;
        }
        stanza.clear();
      } else if (!line.startsWith("#")) {
        stanza.add(line);
      }
    }
    return Optional.empty();
  }

  private static Optional<DebianSource> stanza(List<String> lines, String suite) {
    String types = field(lines, "Types");
    String suites = field(lines, "Suites");
    String uris = field(lines, "URIs");
    String enabled = field(lines, "Enabled");
    if (types == null || suites == null || uris == null || "no".equalsIgnoreCase(enabled)) {
      return Optional.empty();
    }
    if (!words(types).contains("deb") || !words(suites).contains(suite)) {
      return Optional.empty();
    }
    String signedBy = field(lines, "Signed-By");
    // an inline key (a multi-line field) cannot be passed on as a path: leave it to mmdebstrap
    if (signedBy != null && (signedBy.isEmpty() || !signedBy.startsWith("/"))) {
      signedBy = null;
    }
    return Optional.of(new DebianSource(words(uris).getFirst(), suite, signedBy));
  }

  private static @Nullable String field(List<String> lines, String name) {
    for (String line : lines) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).strip().equalsIgnoreCase(name)) {
        return line.substring(colon + 1).strip();
      }
    }
    return null;
  }

  private static List<String> words(String value) {
    return Arrays.stream(value.strip().split("\\s+")).filter(w -> !w.isEmpty()).toList();
  }

  /** The first {@code deb [options] uri suite components} line for {@code suite}. */
  static Optional<DebianSource> fromOneLine(String text, String suite) {
    for (String raw : text.lines().toList()) {
      String line = raw.strip();
      int hash = line.indexOf('#');
      if (hash >= 0) {
        line = line.substring(0, hash).strip();
      }
      if (!line.startsWith("deb ") && !line.startsWith("deb\t")) {
        continue;
      }
      String rest = line.substring(3).strip();
      String signedBy = null;
      if (rest.startsWith("[")) {
        int close = rest.indexOf(']');
        if (close < 0) {
          continue;
        }
        for (String option : words(rest.substring(1, close))) {
          if (option.startsWith("signed-by=")) {
            signedBy = option.substring("signed-by=".length());
          }
        }
        rest = rest.substring(close + 1).strip();
      }
      List<String> parts = words(rest);
      if (parts.size() >= 2 && parts.get(1).equals(suite)) {
        return Optional.of(new DebianSource(parts.get(0), suite, signedBy));
      }
    }
    return Optional.empty();
  }
}
