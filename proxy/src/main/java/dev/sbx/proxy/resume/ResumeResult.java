package dev.sbx.proxy.resume;

import static java.util.Objects.requireNonNull;

import dev.sbx.proxy.catalog.CatalogEntry;
import org.jspecify.annotations.Nullable;

/**
 * What a {@link SandboxResumer} did.
 *
 * @param outcome resumed, or why not
 * @param route where the sandbox runs now (only for {@link Outcome#RESUMED})
 * @param message the control plane's words (shown for {@link Outcome#LIMIT_REACHED} and {@link
 *     Outcome#FAILED})
 */
public record ResumeResult(Outcome outcome, @Nullable CatalogEntry route, String message) {

  /** Why a request did (not) resume its sandbox. */
  public enum Outcome {
    /** The sandbox runs (it was resumed, or was running already): forward to {@code route}. */
    RESUMED,
    /** No such sandbox, or one that may not be resumed by traffic: 502 "not found". */
    NOT_FOUND,
    /** The request's token is not the sandbox's: 403. */
    FORBIDDEN,
    /** Still being paused or resumed after waiting: 409. */
    TRANSITIONING,
    /** The team's concurrency limit is reached: 429. */
    LIMIT_REACHED,
    /** The resume failed: 502 with {@code message}. */
    FAILED
  }

  /** Checks the fields. */
  public ResumeResult {
    requireNonNull(outcome, "outcome");
    requireNonNull(message, "message");
    if ((outcome == Outcome.RESUMED) != (route != null)) {
      throw new IllegalArgumentException("a route comes with RESUMED and only with it");
    }
  }

  /** The sandbox runs at {@code route}. */
  public static ResumeResult resumed(CatalogEntry route) {
    return new ResumeResult(Outcome.RESUMED, route, "resumed");
  }

  /** Not resumed, for {@code outcome}. */
  public static ResumeResult refused(Outcome outcome, String message) {
    return new ResumeResult(outcome, null, message);
  }
}
