package dev.sbx.envd.process;

import dev.sbx.envd.linux.WaitStatus;
import dev.sbx.proto.process.ProcessEvent;

/**
 * How E2B's envd (Go) reports a process's end: {@code exit_code} is the exit code or -1 after a
 * signal, {@code status} is Go's {@code os.ProcessState.String()} ("exit status 1", "signal:
 * killed"), and {@code error} is the same text whenever the process did not exit with 0 (Go's
 * {@code exec.ExitError}).
 */
final class ExitStatusText {
  /** Go's names of signals 1 to 31 on Linux ({@code syscall.Signal.String()}). */
  private static final String[] SIGNAL_NAMES = {
    "",
    "hangup",
    "interrupt",
    "quit",
    "illegal instruction",
    "trace/breakpoint trap",
    "aborted",
    "bus error",
    "floating point exception",
    "killed",
    "user defined signal 1",
    "segmentation fault",
    "user defined signal 2",
    "broken pipe",
    "alarm clock",
    "terminated",
    "stack fault",
    "child exited",
    "continued",
    "stopped (signal)",
    "stopped",
    "stopped (tty input)",
    "stopped (tty output)",
    "urgent I/O condition",
    "CPU time limit exceeded",
    "file size limit exceeded",
    "virtual timer expired",
    "profiling timer expired",
    "window changed",
    "I/O possible",
    "power failure",
    "bad system call",
  };

  private ExitStatusText() {}

  static String signalName(int signal) {
    if (signal >= 1 && signal < SIGNAL_NAMES.length) {
      return SIGNAL_NAMES[signal];
    }
    return "signal " + signal;
  }

  /** Go's {@code ProcessState.String()} for a process that ended. */
  static String text(WaitStatus status) {
    String text =
        status.exited()
            ? "exit status " + status.exitCode()
            : "signal: " + signalName(status.termSignal());
    return status.coreDumped() ? text + " (core dumped)" : text;
  }

  static ProcessEvent endEvent(WaitStatus status) {
    String text = text(status);
    ProcessEvent.EndEvent.Builder end =
        ProcessEvent.EndEvent.newBuilder()
            .setExitCode(status.exited() ? status.exitCode() : -1)
            .setExited(status.exited())
            .setStatus(text);
    if (!status.exited() || status.exitCode() != 0) {
      end.setError(text);
    }
    return ProcessEvent.newBuilder().setEnd(end).build();
  }
}
