package dev.sbx.sdk.files;

/** A running {@link Filesystem#watchDir}. */
public interface WatchHandle extends AutoCloseable {
  /** Stops watching; no event is delivered after this returns. */
  void stop();

  /** Same as {@link #stop()}. */
  @Override
  default void close() {
    stop();
  }
}
