package dev.sbx.api.auth;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.LongSupplier;

/**
 * A token bucket per caller: {@code burst} requests at once, refilled at {@code rate} per second.
 */
public final class RateLimiter {
  private final ConcurrentMap<String, Bucket> buckets = new ConcurrentHashMap<>();
  private final LongSupplier nanoTime;

  public RateLimiter(LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
  }

  /**
   * Takes a token from the bucket of {@code key}.
   *
   * @return the decision, with what the {@code RateLimit-*} headers say
   */
  public Decision acquire(String key, int ratePerSecond, int burst) {
    Bucket bucket = buckets.computeIfAbsent(key, k -> new Bucket(burst, nanoTime.getAsLong()));
    return bucket.take(ratePerSecond, burst, nanoTime.getAsLong());
  }

  /**
   * @param allowed whether the request may go on
   * @param limit the bucket size
   * @param remaining whole tokens left
   * @param retryAfterSeconds seconds until a token is there again (at least 1 when refused)
   */
  public record Decision(boolean allowed, int limit, int remaining, int retryAfterSeconds) {}

  private static final class Bucket {
    private double tokens;
    private long updatedNanos;

    Bucket(int burst, long now) {
      this.tokens = burst;
      this.updatedNanos = now;
    }

    synchronized Decision take(int rate, int burst, long now) {
      double elapsed = Math.max(0, now - updatedNanos) / 1e9;
      tokens = Math.min(burst, tokens + elapsed * rate);
      updatedNanos = now;
      if (tokens >= 1) {
        tokens -= 1;
        return new Decision(true, burst, (int) Math.floor(tokens), 0);
      }
      int retryAfter = (int) Math.max(1, Math.ceil((1 - tokens) / rate));
      return new Decision(false, burst, 0, retryAfter);
    }
  }
}
