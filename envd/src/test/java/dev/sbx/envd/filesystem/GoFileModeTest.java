package dev.sbx.envd.filesystem;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class GoFileModeTest {
  @Test
  void regularFilesDirectoriesAndLinks() {
    assertThat(GoFileMode.text(0100644)).isEqualTo("-rw-r--r--");
    assertThat(GoFileMode.text(0100000)).isEqualTo("----------");
    assertThat(GoFileMode.text(0040755)).isEqualTo("drwxr-xr-x");
    assertThat(GoFileMode.text(0120777)).isEqualTo("Lrwxrwxrwx");
  }

  @Test
  void specialBitsInGoOrder() {
    assertThat(GoFileMode.text(0104755)).isEqualTo("urwxr-xr-x");
    assertThat(GoFileMode.text(0102755)).isEqualTo("grwxr-xr-x");
    assertThat(GoFileMode.text(0106755)).isEqualTo("ugrwxr-xr-x");
    assertThat(GoFileMode.text(0041777)).isEqualTo("dtrwxrwxrwx");
    assertThat(GoFileMode.text(0043777)).isEqualTo("dgtrwxrwxrwx");
  }

  @Test
  void pipesSocketsAndDevices() {
    assertThat(GoFileMode.text(0010644)).isEqualTo("prw-r--r--");
    assertThat(GoFileMode.text(0140755)).isEqualTo("Srwxr-xr-x");
    assertThat(GoFileMode.text(0060660)).isEqualTo("Drw-rw----");
    assertThat(GoFileMode.text(0020666)).isEqualTo("Dcrw-rw-rw-");
  }
}
