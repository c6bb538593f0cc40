package dev.sbx.orchestrator.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Freezes and thaws a container's cgroup through its files, as {@code runc pause} / {@code runc
 * resume} do, without forking runc (about 40 ms per call on a small VM, against a millisecond
 * here): cgroup v1 writes {@code FROZEN} / {@code THAWED} to {@code freezer.state} and reads it
 * back until the kernel is done; v2 writes {@code cgroup.freeze} and reads {@code frozen} in {@code
 * cgroup.events}. runc reads the same files for its state, so it sees what was done here.
 */
final class CgroupFreezer {
  private static final Duration POLL = Duration.ofMillis(1);

  /** How often {@link #freeze} tries again when it froze a task in the middle of a vfork. */
  static final int VFORK_RETRIES = 20;

  /**
   * How long a freeze may stay {@code FREEZING} with a task waiting for its {@code vfork} child
   * before it is tried again, and how long the cgroup runs before the first retry.
   */
  static final Duration VFORK_RETRY_DELAY = Duration.ofMillis(5);

  /** The longest the cgroup runs between two tries. */
  static final Duration VFORK_RETRY_DELAY_MAX = Duration.ofMillis(100);

  /**
   * The kernel functions a task waits in while the child of its {@code vfork} has not yet called
   * {@code exec} or exited ({@code /proc/<tid>/wchan}; {@code kernel_clone} since Linux 5.10).
   */
  private static final Set<String> VFORK_WAITS =
      Set.of("kernel_clone", "_do_fork", "do_fork", "wait_for_vfork_done");

  private final Path file;
  private final boolean v2;

  private CgroupFreezer(Path file, boolean v2) {
    this.file = file;
    this.v2 = v2;
  }

  /**
   * The freezer among a container's cgroup directories: v1's {@code freezer} hierarchy if there is
   * one, else v2's; empty if none of them has one. On a hybrid host (v1 controllers and a v2 {@code
   * unified} hierarchy) only the v1 freezer is the one runc and CRIU read and thaw: a task frozen
   * through {@code unified/…/cgroup.freeze} stays frozen when CRIU thaws the v1 cgroup, and its
   * dump hangs.
   */
  static Optional<CgroupFreezer> of(List<Path> cgroupDirs) {
    for (Path dir : cgroupDirs) {
      if (Files.isRegularFile(dir.resolve("freezer.state"))) {
        return Optional.of(new CgroupFreezer(dir.resolve("freezer.state"), false));
      }
    }
    boolean hybrid = Files.isDirectory(Path.of("/sys/fs/cgroup/freezer"));
    for (Path dir : cgroupDirs) {
      if (!hybrid && Files.isRegularFile(dir.resolve("cgroup.freeze"))) {
        return Optional.of(new CgroupFreezer(dir, true));
      }
    }
    return Optional.empty();
  }

  /**
   * Freezes the cgroup and waits until every task is frozen and none is frozen in the middle of a
   * {@code vfork} ({@link #vforkWaiters}). A freeze that catches a {@code vfork} either stays in
   * v1's {@code FREEZING} (the parent cannot freeze while it waits for a frozen child) or ends
   * frozen with the parent waiting; either way it is undone and tried again after the cgroup has
   * run for {@link #retryDelay}, up to {@link #VFORK_RETRIES} times. (A shell that runs commands
   * back to back waits for a {@code vfork} child most of the time, since the child's {@code exec}
   * takes a few milliseconds; the growing delay lands the next freeze elsewhere in that cycle.)
   *
   * @return false if freezing took longer than {@code timeout} (the cgroup is thawed again) or the
   *     files could not be written
   */
  boolean freeze(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (int attempt = 0; ; attempt++) {
      if (!request(true)) {
        return false;
      }
      boolean retry = attempt < VFORK_RETRIES;
      long waitingSince = System.nanoTime();
      while (true) {
        if (isFrozen()) {
          if (!retry || vforkWaiters().isEmpty()) {
            return true; // a waiter left after the last try: the checkpoint's own retry handles it
          }
          break;
        }
        long now = System.nanoTime();
        if (now - deadline > 0) {
          request(false);
          return false;
        }
        if (retry
            && now - waitingSince > VFORK_RETRY_DELAY.toNanos()
            && !vforkWaiters().isEmpty()) {
          break;
        }
        if (!pause(POLL)) {
          request(false);
          return false;
        }
      }
      if (!request(false)
          || !await(false, Duration.ofNanos(Math.max(deadline - System.nanoTime(), 0)))
          || !pause(retryDelay(attempt))) {
        request(false);
        return false;
      }
    }
  }

  /**
   * Tasks of the cgroup that wait for the child of their {@code vfork} (dash, for one, starts every
   * command that way). Frozen, such a task waits in state D for a child that was frozen before its
   * {@code exec}, and CRIU cannot seize it: its dump fails. Empty if the cgroup lists no tasks.
   */
  List<Integer> vforkWaiters() {
    Path tasks = v2 ? file.resolve("cgroup.threads") : file.resolveSibling("tasks");
    List<Integer> waiters = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(tasks)) {
        if (line.isBlank()) {
          continue;
        }
        int tid = Integer.parseInt(line.strip());
        try {
          String wchan = Files.readString(Path.of("/proc", Integer.toString(tid), "wchan"));
          if (VFORK_WAITS.contains(wchan.strip())) {
            waiters.add(tid);
          }
        } catch (IOException e) {
          // gone meanwhile
        }
      }
    } catch (IOException | NumberFormatException e) {
      return List.of();
    }
    return waiters;
  }

  /**
   * Thaws the cgroup and waits until it is.
   *
   * @return false if it did not thaw within {@code timeout} or the files could not be written
   */
  boolean thaw(Duration timeout) {
    return request(false) && await(false, timeout);
  }

  /** Whether the cgroup is frozen now (a v1 cgroup still freezing is not). */
  boolean isFrozen() {
    try {
      if (v2) {
        return Files.readAllLines(file.resolve("cgroup.events")).contains("frozen 1");
      }
      return Files.readString(file).strip().equals("FROZEN");
    } catch (IOException e) {
      return false;
    }
  }

  private boolean request(boolean frozen) {
    try {
      if (v2) {
        Files.writeString(file.resolve("cgroup.freeze"), frozen ? "1" : "0");
      } else {
        Files.writeString(file, frozen ? "FROZEN" : "THAWED");
      }
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private boolean await(boolean frozen, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (isFrozen() != frozen) {
      if (System.nanoTime() - deadline > 0 || !pause(POLL)) {
        return false;
      }
    }
    return true;
  }

  /** How long the cgroup runs before try {@code attempt + 1}: doubling from 5 ms to 100 ms. */
  static Duration retryDelay(int attempt) {
    Duration delay = VFORK_RETRY_DELAY.multipliedBy(1L << Math.min(attempt, 10));
    return delay.compareTo(VFORK_RETRY_DELAY_MAX) > 0 ? VFORK_RETRY_DELAY_MAX : delay;
  }

  /** Sleeps; false if interrupted (the flag is set again). */
  private static boolean pause(Duration time) {
    try {
      Thread.sleep(time);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
