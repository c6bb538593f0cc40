package dev.sbx.orchestrator.lifecycle;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;

/**
 * Where the time of one {@link SandboxLifecycle#create} went: the steps in the order they ended,
 * each with the time since the previous step ended (the first since the create began). Handed to
 * the listener set with {@link SandboxLifecycle#onCreate} after a create succeeded; benchmarks use
 * it for their per-step tables, the lifecycle logs it at {@code DEBUG}.
 *
 * <p>Not thread-safe: one create fills it on its own thread.
 */
public final class CreateTrace {
  /** One step and its duration. */
  public record Step(String name, long nanos) {
    public Step {
      requireNonNull(name, "name");
    }
  }

  private final String sandboxId;
  private final long start = System.nanoTime();
  private long last = start;
  private final List<Step> steps = new ArrayList<>();
  private final List<Step> parallelSteps = new ArrayList<>();
  private boolean warm;

  CreateTrace(String sandboxId) {
    this.sandboxId = requireNonNull(sandboxId, "sandboxId");
  }

  /** Ends a step now. */
  void mark(String step) {
    long now = System.nanoTime();
    steps.add(new Step(step, now - last));
    last = now;
  }

  /** A step that ran beside the others (its time is part of theirs, not added to the total). */
  void parallel(String step, long nanos) {
    parallelSteps.add(new Step(step, nanos));
  }

  void warm(boolean warm) {
    this.warm = warm;
  }

  public String sandboxId() {
    return sandboxId;
  }

  /** Whether the create claimed a warm sandbox (else it started one cold). */
  public boolean warm() {
    return warm;
  }

  public List<Step> steps() {
    return List.copyOf(steps);
  }

  /** Steps that ran beside the others, each with its own duration. */
  public List<Step> parallelSteps() {
    return List.copyOf(parallelSteps);
  }

  /** From the start of the create to the end of its last step. */
  public long totalNanos() {
    return last - start;
  }

  @Override
  public String toString() {
    StringBuilder text =
        new StringBuilder(sandboxId).append(warm ? " warm" : " cold").append(" create:");
    for (Step step : steps) {
      text.append(String.format(" %s %.2f ms,", step.name(), step.nanos() / 1e6));
    }
    for (Step step : parallelSteps) {
      text.append(String.format(" [beside: %s %.2f ms],", step.name(), step.nanos() / 1e6));
    }
    return text.append(String.format(" total %.2f ms", totalNanos() / 1e6)).toString();
  }
}
