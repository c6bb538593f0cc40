package dev.sbx.bench;

import java.util.Arrays;

/** Timings of repeated runs, in nanoseconds, and their percentiles. */
final class Samples {
  private final long[] nanos;
  private int size;

  Samples(int capacity) {
    this.nanos = new long[capacity];
  }

  void add(long elapsedNanos) {
    nanos[size++] = elapsedNanos;
  }

  /** The percentile {@code p} (0–100), nearest-rank, in milliseconds. */
  double percentileMillis(double p) {
    if (size == 0) {
      throw new IllegalStateException("no samples");
    }
    long[] sorted = Arrays.copyOf(nanos, size);
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(p / 100.0 * size);
    return sorted[Math.clamp(rank - 1, 0, size - 1)] / 1e6;
  }

  int size() {
    return size;
  }
}
