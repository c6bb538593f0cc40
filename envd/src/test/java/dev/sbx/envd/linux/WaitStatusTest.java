package dev.sbx.envd.linux;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WaitStatusTest {
  @Test
  void decodesAsTheCMacrosDo() {
    WaitStatus exit1 = new WaitStatus(0x0100);
    assertThat(exit1.exited()).isTrue();
    assertThat(exit1.exitCode()).isEqualTo(1);
    assertThat(exit1.signaled()).isFalse();

    WaitStatus exit137 = new WaitStatus(137 << 8);
    assertThat(exit137.exited()).isTrue();
    assertThat(exit137.exitCode()).isEqualTo(137);

    WaitStatus killed = new WaitStatus(9);
    assertThat(killed.exited()).isFalse();
    assertThat(killed.signaled()).isTrue();
    assertThat(killed.termSignal()).isEqualTo(9);
    assertThat(killed.coreDumped()).isFalse();

    WaitStatus segvCore = new WaitStatus(0x80 | 11);
    assertThat(segvCore.signaled()).isTrue();
    assertThat(segvCore.termSignal()).isEqualTo(11);
    assertThat(segvCore.coreDumped()).isTrue();

    WaitStatus stopped = new WaitStatus(0x137f);
    assertThat(stopped.exited()).isFalse();
    assertThat(stopped.signaled()).isFalse();
  }
}
