package dev.sbx.orchestrator.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@link SandboxLifecycle#memoryLow}: when frozen sandboxes give their memory back. */
class MemoryLowTest {
  private static String meminfo(long totalKb, long availableKb) {
    return "MemTotal:       "
        + totalKb
        + " kB\nMemFree:         1000 kB\nMemAvailable:   "
        + availableKb
        + " kB\nBuffers:           0 kB\n";
  }

  @Test
  void lowBelowATenthAvailable() {
    assertThat(SandboxLifecycle.memoryLow(meminfo(24_000_000, 2_399_999))).isTrue();
    assertThat(SandboxLifecycle.memoryLow(meminfo(24_000_000, 2_400_000))).isFalse();
    assertThat(SandboxLifecycle.memoryLow(meminfo(24_000_000, 20_000_000))).isFalse();
  }

  @Test
  void notLowWithoutTheFields() {
    assertThat(SandboxLifecycle.memoryLow("")).isFalse();
    assertThat(SandboxLifecycle.memoryLow("MemTotal: 1000 kB\n")).isFalse();
  }
}
