package dev.sbx.orchestrator.template;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DebianSourceTest {
  static final String DEB822 =
      """
      Types: deb-src
      URIs: http://src.example/debian
      Suites: bookworm
      Components: main

      # a comment
      Types: deb
      URIs: http://archive.example/debian
      Suites: bookworm bookworm-updates
      Components: main
      Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

      Types: deb
      URIs: http://security.example/debian-security
      Suites: bookworm-security
      Components: main
      Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
      """;

  @Test
  void deb822StanzasAreMatchedBySuiteAndType() {
    assertThat(DebianSource.fromDeb822(DEB822, "bookworm"))
        .contains(
            new DebianSource(
                "http://archive.example/debian",
                "bookworm",
                "/usr/share/keyrings/debian-archive-keyring.gpg"));
    assertThat(DebianSource.fromDeb822(DEB822, "bookworm-updates").orElseThrow().uri())
        .isEqualTo("http://archive.example/debian");
    assertThat(DebianSource.fromDeb822(DEB822, "bookworm-security").orElseThrow().uri())
        .isEqualTo("http://security.example/debian-security");
    assertThat(DebianSource.fromDeb822(DEB822, "trixie")).isEmpty();
    assertThat(
            DebianSource.fromDeb822(
                "Types: deb\nURIs: http://x/\nSuites: bookworm\nEnabled: no\n", "bookworm"))
        .isEmpty();
  }

  @Test
  void oneLineEntriesWithAndWithoutOptions() {
    String list =
        """
        # deb http://commented.example/debian bookworm main
        deb-src http://src.example/debian bookworm main
        deb [arch=amd64 signed-by=/etc/apt/keyrings/k.gpg] http://one.example/debian bookworm main
        deb http://two.example/debian bookworm-updates main # trailing
        """;

    assertThat(DebianSource.fromOneLine(list, "bookworm"))
        .contains(
            new DebianSource("http://one.example/debian", "bookworm", "/etc/apt/keyrings/k.gpg"));
    assertThat(DebianSource.fromOneLine(list, "bookworm-updates"))
        .contains(new DebianSource("http://two.example/debian", "bookworm-updates", null));
    assertThat(DebianSource.fromOneLine(list, "bookworm-security")).isEmpty();
  }

  @Test
  void deb822FilesComeBeforeOneLineFiles(@TempDir Path apt) throws Exception {
    Files.createDirectories(apt.resolve("sources.list.d"));
    Files.writeString(apt.resolve("sources.list"), "deb http://old.example/debian bookworm main\n");
    assertThat(DebianSource.find(apt, "bookworm").orElseThrow().uri())
        .isEqualTo("http://old.example/debian");

    Files.writeString(apt.resolve("sources.list.d/debian.sources"), DEB822);
    assertThat(DebianSource.find(apt, "bookworm").orElseThrow().uri())
        .isEqualTo("http://archive.example/debian");
    assertThat(DebianSource.find(apt, "sid")).isEqualTo(Optional.empty());
  }

  @Test
  void sourcesListLineIsWhatMmdebstrapTakes() {
    assertThat(new DebianSource("http://a/debian", "bookworm", "/k.gpg").sourcesListLine("main"))
        .isEqualTo("deb [signed-by=/k.gpg] http://a/debian bookworm main");
    assertThat(
            new DebianSource("http://a/debian", "bookworm", null)
                .withSuite("bookworm-updates")
                .sourcesListLine("main"))
        .isEqualTo("deb http://a/debian bookworm-updates main");
  }
}
