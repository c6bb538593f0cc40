package dev.sbx.orchestrator.lifecycle;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/**
 * How many started sandboxes each template keeps waiting to be claimed by a create.
 *
 * @param defaultSize the pool size of every template not named in {@code sizes} (0: no pool)
 * @param sizes pool sizes by template id (0: no pool for that template)
 */
public record WarmPoolSettings(int defaultSize, Map<String, Integer> sizes) {

  /** No warm pool at all: every create is a cold start. */
  public static final WarmPoolSettings OFF = new WarmPoolSettings(0, Map.of());

  public WarmPoolSettings {
    sizes = Map.copyOf(requireNonNull(sizes, "sizes"));
    if (defaultSize < 0) {
      throw new IllegalArgumentException("defaultSize must not be negative: " + defaultSize);
    }
    sizes.forEach(
        (template, size) -> {
          if (size < 0) {
            throw new IllegalArgumentException(
                "pool size of " + template + " must not be negative: " + size);
          }
        });
  }

  /** The same size for every template. */
  public static WarmPoolSettings ofSize(int size) {
    return new WarmPoolSettings(size, Map.of());
  }

  /** The pool size of {@code templateId}. */
  public int size(String templateId) {
    return sizes.getOrDefault(templateId, defaultSize);
  }
}
