package dev.sbx.sdk;

import org.jspecify.annotations.Nullable;

/**
 * One child of {@link Sandbox#fork}: the running sandbox, or why it did not start (each child
 * succeeds or fails on its own, as in E2B's {@code Promise.allSettled}-style result).
 *
 * @param sandbox the child, or null when it failed
 * @param error why it failed (e.g. a {@link RateLimitException} at the team's limit), or null
 */
public record ForkResult(@Nullable Sandbox sandbox, @Nullable SandboxException error) {
  public ForkResult {
    if ((sandbox == null) == (error == null)) {
      throw new IllegalArgumentException("a fork result has a sandbox or an error, not both");
    }
  }

  /** The child sandbox, or its error thrown. */
  public Sandbox sandboxOrThrow() {
    if (sandbox == null) {
      throw java.util.Objects.requireNonNull(error);
    }
    return sandbox;
  }
}
