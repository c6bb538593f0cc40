package dev.sbx.envd.process;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The processes envd started, by pid. A finished process stays here for a while (30 s in envd) so
 * that a late {@code Connect} still receives its end; then it is evicted.
 */
final class ProcessTable {
  private final ConcurrentHashMap<Integer, SandboxProcess> byPid = new ConcurrentHashMap<>();
  private final Duration retention;

  ProcessTable(Duration retention) {
    this.retention = retention;
  }

  void add(SandboxProcess process) {
    byPid.put(process.pid(), process);
  }

  /** Called when a process has ended: it is evicted after the retention time. */
  void finished(SandboxProcess process) {
    Thread.ofVirtual()
        .name("process-evict-" + process.pid())
        .start(
            () -> {
              try {
                Thread.sleep(retention);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              byPid.remove(process.pid(), process);
            });
  }

  Optional<SandboxProcess> byPid(int pid) {
    return Optional.ofNullable(byPid.get(pid));
  }

  /** A process with that tag, a running one if there is one. */
  Optional<SandboxProcess> byTag(String tag) {
    SandboxProcess finished = null;
    for (SandboxProcess process : byPid.values()) {
      if (process.info().hasTag() && process.info().getTag().equals(tag)) {
        if (process.isRunning()) {
          return Optional.of(process);
        }
        finished = process;
      }
    }
    return Optional.ofNullable(finished);
  }

  List<SandboxProcess> running() {
    return byPid.values().stream().filter(SandboxProcess::isRunning).toList();
  }

  /** Every process still known, running or finished (for tests and shutdown). */
  List<SandboxProcess> all() {
    return List.copyOf(byPid.values());
  }
}
