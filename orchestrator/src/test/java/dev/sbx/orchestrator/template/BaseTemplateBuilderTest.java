package dev.sbx.orchestrator.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The builder's bookkeeping with a stand-in for mmdebstrap (a shell script that makes a small tree
 * or fails): atomic install, reuse, rebuild, nothing left after a failure. Needs root (the builder
 * checks for it) and an apt source for bookworm on the host; the real build is {@link
 * BaseTemplateTest}'s.
 */
class BaseTemplateBuilderTest {
  @TempDir Path dir;
  Path templatesDir;
  Path calls;
  final List<String> progress = new ArrayList<>();

  @BeforeEach
  void setUp() {
    templatesDir = dir.resolve("templates");
    calls = dir.resolve("calls");
  }

  /** A stand-in for mmdebstrap: logs its arguments, then runs {@code body} with $target set. */
  Path fake(String name, String body) throws Exception {
    Path script = dir.resolve(name);
    Files.writeString(
        script,
        """
        #!/bin/sh
        printf '%%s\\n' "$@" >> %s
        echo --- >> %s
        target=
        previous=
        for arg in "$@"; do
          [ "$previous" = bookworm ] && [ -z "$target" ] && target=$arg
          previous=$arg
        done
        %s
        """
            .formatted(calls, calls, body));
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    return script;
  }

  BaseTemplateBuilder builder(Path mmdebstrap) {
    return new BaseTemplateBuilder(
        new TemplateDirectory(templatesDir), progress::add, "0.6.4", mmdebstrap.toString());
  }

  Path succeeding() throws Exception {
    return fake(
        "ok",
        """
        mkdir -p "$target/usr/bin" "$target/tmp"
        printf 0123456789 > "$target/usr/bin/ten"
        ln "$target/usr/bin/ten" "$target/usr/bin/same-ten"
        echo "I: fake mmdebstrap done"
        """);
  }

  long runs() throws Exception {
    return Files.exists(calls)
        ? Files.readAllLines(calls).stream().filter("---"::equals).count()
        : 0;
  }

  List<String> leftovers() throws Exception {
    try (Stream<Path> entries = Files.list(templatesDir)) {
      return entries
          .map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith(".base.building") || n.startsWith(".base.old"))
          .toList();
    }
  }

  @Test
  void buildsIntoATempDirAndRenamesWithSettings() throws Exception {
    Template template = builder(succeeding()).build(false);

    assertThat(template.directory()).isEqualTo(templatesDir.resolve("base"));
    assertThat(template.rootfs().resolve("usr/bin/ten")).hasContent("0123456789");
    TemplateSettings settings = template.settings();
    assertThat(settings.rootfsBytes()).isEqualTo(10); // the hard link counted once
    assertThat(settings.builtAt()).isNotNull();
    assertThat(settings.envdVersion()).isEqualTo("0.6.4");
    assertThat(settings.envVars()).containsExactly(Map.entry("LANG", "C.UTF-8"));
    assertThat(settings.defaultUser()).isEqualTo("user");
    assertThat(leftovers()).isEmpty();
    assertThat(progress)
        .anyMatch(l -> l.startsWith("[base 1/3] mmdebstrap: Debian bookworm from deb "))
        .contains("[base 1/3] I: fake mmdebstrap done")
        .anyMatch(l -> l.startsWith("[base 3/3] installing as "))
        .anyMatch(l -> l.startsWith("[base] built in "));
    List<String> args = Files.readAllLines(calls);
    assertThat(args)
        .contains("--mode=root", "--variant=minbase", "bookworm")
        .anyMatch(a -> a.startsWith("--include=bash,coreutils,procps,python3,python3-pip,"))
        .anyMatch(a -> a.startsWith("--customize-hook=chroot \"$1\" useradd"))
        .anyMatch(a -> a.matches("deb (\\[signed-by=\\S+\\] )?\\S+ bookworm main"));
    // the target was a temp dir beside the template, not the template itself
    assertThat(args.get(args.indexOf("bookworm") + 1))
        .startsWith(templatesDir.resolve(".base.building-").toString())
        .endsWith("/rootfs");
  }

  @Test
  void anExistingTemplateIsReusedUnlessRebuildIsAsked() throws Exception {
    Path mmdebstrap = succeeding();
    Template first = builder(mmdebstrap).build(false);

    Template reused = builder(mmdebstrap).build(false);

    assertThat(runs()).isEqualTo(1);
    assertThat(reused).isEqualTo(first);
    assertThat(progress).anyMatch(l -> l.startsWith("[base] reusing "));

    Template rebuilt = builder(mmdebstrap).build(true);

    assertThat(runs()).isEqualTo(2);
    assertThat(rebuilt.settings().builtAt()).isAfter(first.settings().builtAt());
    assertThat(leftovers()).isEmpty();
  }

  @Test
  void aFailedBuildLeavesNothingAndKeepsTheOldTemplate() throws Exception {
    Path failing =
        fake(
            "fail",
            """
            mkdir -p "$target/etc"
            echo "E: fake failure"
            exit 3
            """);

    assertThatThrownBy(() -> builder(failing).build(false))
        .isInstanceOf(TemplateBuildException.class)
        .hasMessageContaining("exit 3")
        .hasMessageContaining("E: fake failure");
    assertThat(templatesDir.resolve("base")).doesNotExist();
    assertThat(leftovers()).isEmpty();

    Template good = builder(succeeding()).build(false);
    assertThatThrownBy(() -> builder(failing).build(true))
        .isInstanceOf(TemplateBuildException.class);
    assertThat(new TemplateDirectory(templatesDir).template("base")).isEqualTo(good);
    assertThat(leftovers()).isEmpty();
  }

  @Test
  void anUnusableTemplateAndACrashedBuildsDirectoryAreReplaced() throws Exception {
    Files.createDirectories(templatesDir.resolve("base/rootfs")); // no template.json
    Files.createDirectories(templatesDir.resolve(".base.building-crashed/rootfs/etc"));

    Template template = builder(succeeding()).build(false);

    assertThat(template.rootfs().resolve("usr/bin/ten")).exists();
    assertThat(leftovers()).isEmpty();
    assertThat(progress)
        .anyMatch(l -> l.contains("not usable, rebuilding"))
        .anyMatch(l -> l.contains("left by an earlier build"));
  }

  @Test
  void aMissingMmdebstrapSaysHowToInstallIt() {
    assertThatThrownBy(() -> builder(dir.resolve("no-such-mmdebstrap")).build(false))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("scripts/install-deps.sh orchestrator");
    assertThat(templatesDir.resolve("base")).doesNotExist();
  }

  @Test
  void diskUsageCountsFilesAndSymlinksOnce() throws Exception {
    Path tree = Files.createDirectories(dir.resolve("tree/a"));
    Files.writeString(tree.resolve("f"), "12345");
    Files.createLink(tree.resolve("g"), tree.resolve("f"));
    Files.createSymbolicLink(tree.resolve("l"), Path.of("f"));

    assertThat(BaseTemplateBuilder.diskUsage(dir.resolve("tree"))).isEqualTo(5 + 1);
  }
}
