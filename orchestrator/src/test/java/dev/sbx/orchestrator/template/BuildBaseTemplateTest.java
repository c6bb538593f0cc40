package dev.sbx.orchestrator.template;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BuildBaseTemplateTest {
  @Test
  void badArgumentsExitWithTwoBeforeBuildingAnything() throws Exception {
    assertThat(BuildBaseTemplate.run("--bogus")).isEqualTo(2);
    assertThat(BuildBaseTemplate.run("--templates")).isEqualTo(2);
    assertThat(BuildBaseTemplate.run("--rebuild", "--envd-version")).isEqualTo(2);
  }
}
