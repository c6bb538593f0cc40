package dev.sbx.cli.output;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BuildProgressTest {
  /** Lines as BaseTemplateBuilder passes them on (abridged mmdebstrap output). */
  private static final List<String> BUILD =
      List.of(
          "[base 1/3] mmdebstrap: Debian bookworm from deb http://deb.debian.org/debian bookworm"
              + " main into /var/lib/sbx/templates/.base.building-1/rootfs",
          "[base 1/3] I: chroot architecture amd64 is equal to the host's architecture",
          "[base 1/3] I: running apt-get update...",
          "[base 1/3] Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]",
          "[base 1/3] I: downloading packages with apt...",
          "[base 1/3] 0 upgraded, 200 newly installed, 0 to remove and 0 not upgraded.",
          "[base 1/3] Get:50 http://deb.debian.org/debian bookworm/main amd64 bash 5.2.15-2+b2",
          "[base 1/3] Get:200 http://deb.debian.org/debian bookworm/main amd64 zlib1g",
          "[base 1/3] I: extracting archives...",
          "[base 1/3] I: installing essential packages...",
          "[base 1/3] I: installing remaining packages inside the chroot...",
          "[base 1/3] Setting up python3 (3.11.2-1+b1) ...",
          "[base 1/3] I: running --customize-hook in shell: sh -c 'chmod 1777 \"$1/tmp\"' exec",
          "[base 1/3] I: cleaning package lists and apt cache...",
          "[base 1/3] I: success in 80.1234 seconds",
          "[base 2/3] measuring the rootfs, writing template.json",
          "[base 3/3] installing as /var/lib/sbx/templates/base",
          "[base] built in 85 s, rootfs 512 MiB");

  @Test
  void theFractionFollowsTheStagesAndNeverGoesBack() {
    BuildProgress progress =
        new BuildProgress(new PrintStream(new ByteArrayOutputStream()), false, () -> 80);
    List<Double> fractions = new ArrayList<>();
    List<String> stages = new ArrayList<>();
    for (String line : BUILD) {
      progress.accept(line);
      fractions.add(progress.fraction());
      stages.add(progress.stageName());
    }
    assertThat(fractions).isSorted();
    assertThat(fractions.getFirst()).isZero();
    assertThat(fractions.getLast()).isEqualTo(1.0);
    // Get:50 of 200 packages: a quarter of the download stage (0.08 .. 0.35)
    assertThat(fractions.get(6)).isBetween(0.08 + 0.27 * 0.2, 0.08 + 0.27 * 0.3);
    // Get:200 of 200: the end of the stage, not beyond
    assertThat(fractions.get(7)).isBetween(0.33, 0.35);
    assertThat(stages)
        .contains(
            "apt-get update",
            "downloading packages",
            "installing packages",
            "customizing",
            "measuring the rootfs",
            "done");
  }

  @Test
  void lineWithoutTotalsApproachTheNextStageWithoutReachingIt() {
    BuildProgress progress =
        new BuildProgress(new PrintStream(new ByteArrayOutputStream()), false, () -> 80);
    progress.accept(BUILD.get(0));
    progress.accept("[base 1/3] I: installing remaining packages inside the chroot...");
    for (int i = 0; i < 500; i++) {
      progress.accept("[base 1/3] some apt line " + i);
    }
    assertThat(progress.fraction()).isGreaterThan(0.8).isLessThan(0.88);
  }

  @Test
  void notOnATerminalEveryLineIsPrintedAsItIs() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    BuildProgress progress =
        new BuildProgress(new PrintStream(bytes, true, StandardCharsets.UTF_8), false, () -> 80);
    BUILD.forEach(progress);
    progress.close();
    assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo(String.join("\n", BUILD) + "\n");
  }

  @Test
  void onATerminalOneLineIsRedrawnWithinTheWidth() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    BuildProgress progress =
        new BuildProgress(new PrintStream(bytes, true, StandardCharsets.UTF_8), true, () -> 60);
    progress.accept("[base] the existing template is not usable, rebuilding: broken");
    BUILD.forEach(progress);
    progress.close();
    String out = bytes.toString(StandardCharsets.UTF_8);
    // the line before the build is plain; then redraws (\r + clear line), one newline at the end
    assertThat(out).startsWith("[base] the existing template is not usable, rebuilding: broken\n");
    String[] redraws = out.substring(out.indexOf('\n') + 1).split("\r\033\\[K");
    assertThat(redraws).hasSize(BUILD.size() + 1);
    for (int i = 1; i < redraws.length; i++) {
      assertThat(redraws[i].strip()).hasSizeLessThanOrEqualTo(59).startsWith("[");
    }
    assertThat(redraws[redraws.length - 1])
        .startsWith("[########################] 100% done")
        .endsWith("\n");
    assertThat(out.chars().filter(c -> c == '\n').count()).isEqualTo(2);
    assertThat(redraws[7]).contains(" downloading packages: Get:");
  }

  @Test
  void theBarLineEndsBeforeAnErrorMessage() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    BuildProgress progress =
        new BuildProgress(new PrintStream(bytes, true, StandardCharsets.UTF_8), true, () -> 80);
    progress.accept(BUILD.get(0));
    progress.accept(BUILD.get(2));
    progress.close();
    assertThat(bytes.toString(StandardCharsets.UTF_8))
        .endsWith("apt-get update: running apt-get update...\n");
  }

  @Test
  void terminalSizesAreParsed() {
    assertThat(Terminal.parseSize("24 80\n")).containsExactly(24, 80);
    assertThat(Terminal.parseSize("0 0")).isNull();
    assertThat(Terminal.parseSize("nonsense")).isNull();
    assertThat(Terminal.isTerminalDevice("/dev/pts/3")).isTrue();
    assertThat(Terminal.isTerminalDevice("pipe:[1234]")).isFalse();
    assertThat(Terminal.isTerminalDevice("/dev/null")).isFalse();
  }
}
