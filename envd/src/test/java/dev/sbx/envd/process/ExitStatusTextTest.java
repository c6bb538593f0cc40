package dev.sbx.envd.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sbx.envd.linux.WaitStatus;
import dev.sbx.proto.process.ProcessEvent;
import org.junit.jupiter.api.Test;

class ExitStatusTextTest {
  @Test
  void textIsGosProcessStateString() {
    assertThat(ExitStatusText.text(WaitStatus.ofExit(0))).isEqualTo("exit status 0");
    assertThat(ExitStatusText.text(WaitStatus.ofExit(137))).isEqualTo("exit status 137");
    assertThat(ExitStatusText.text(WaitStatus.ofSignal(9))).isEqualTo("signal: killed");
    assertThat(ExitStatusText.text(WaitStatus.ofSignal(15))).isEqualTo("signal: terminated");
    assertThat(ExitStatusText.text(WaitStatus.ofSignal(2))).isEqualTo("signal: interrupt");
    assertThat(ExitStatusText.text(WaitStatus.ofSignal(1))).isEqualTo("signal: hangup");
    assertThat(ExitStatusText.text(WaitStatus.ofSignal(6))).isEqualTo("signal: aborted");
    assertThat(ExitStatusText.text(WaitStatus.ofSignal(13))).isEqualTo("signal: broken pipe");
    assertThat(ExitStatusText.text(new WaitStatus(0x80 | 11)))
        .isEqualTo("signal: segmentation fault (core dumped)");
    assertThat(ExitStatusText.text(WaitStatus.ofSignal(34))).isEqualTo("signal: signal 34");
  }

  @Test
  void endEventCarriesCodeExitedStatusAndError() {
    ProcessEvent.EndEvent ok = ExitStatusText.endEvent(WaitStatus.ofExit(0)).getEnd();
    assertThat(ok.getExitCode()).isZero();
    assertThat(ok.getExited()).isTrue();
    assertThat(ok.hasError()).isFalse();

    ProcessEvent.EndEvent failed = ExitStatusText.endEvent(WaitStatus.ofExit(2)).getEnd();
    assertThat(failed.getExitCode()).isEqualTo(2);
    assertThat(failed.getError()).isEqualTo("exit status 2");

    ProcessEvent.EndEvent killed = ExitStatusText.endEvent(WaitStatus.ofSignal(9)).getEnd();
    assertThat(killed.getExitCode()).isEqualTo(-1);
    assertThat(killed.getExited()).isFalse();
    assertThat(killed.getStatus()).isEqualTo("signal: killed");
    assertThat(killed.getError()).isEqualTo("signal: killed");
  }
}
