package dev.sbx.sdk.internal;

/**
 * An envd version ({@code major.minor.patch}, anything after a {@code -} or {@code +} ignored),
 * compared numerically as E2B's SDKs do for their feature gates.
 */
public record EnvdVersion(int major, int minor, int patch) implements Comparable<EnvdVersion> {
  /** Reported in debug mode, so every gate passes (E2B's {@code ENVD_DEBUG_FALLBACK}). */
  public static final EnvdVersion DEBUG_FALLBACK = new EnvdVersion(99, 99, 99);

  public static final EnvdVersion V0_1_0 = new EnvdVersion(0, 1, 0);
  public static final EnvdVersion V0_1_4 = new EnvdVersion(0, 1, 4);
  public static final EnvdVersion V0_1_5 = new EnvdVersion(0, 1, 5);
  public static final EnvdVersion V0_3_0 = new EnvdVersion(0, 3, 0);
  public static final EnvdVersion V0_4_0 = new EnvdVersion(0, 4, 0);
  public static final EnvdVersion V0_5_2 = new EnvdVersion(0, 5, 2);
  public static final EnvdVersion V0_5_7 = new EnvdVersion(0, 5, 7);
  public static final EnvdVersion V0_6_2 = new EnvdVersion(0, 6, 2);
  public static final EnvdVersion V0_6_3 = new EnvdVersion(0, 6, 3);

  /** Parses {@code 0.6.4}, {@code v0.6.4} or {@code 0.6.4-rc1}; missing parts are 0. */
  public static EnvdVersion parse(String text) {
    String core = text.strip();
    if (core.startsWith("v")) {
      core = core.substring(1);
    }
    int cut = core.length();
    for (char c : new char[] {'-', '+'}) {
      int at = core.indexOf(c);
      if (at >= 0) {
        cut = Math.min(cut, at);
      }
    }
    String[] parts = core.substring(0, cut).split("\\.", -1);
    int[] numbers = new int[3];
    try {
      for (int i = 0; i < Math.min(3, parts.length); i++) {
        numbers[i] = Integer.parseInt(parts[i]);
      }
    } catch (NumberFormatException e) {
      throw new dev.sbx.sdk.SandboxException("invalid envd version '" + text + "'", e);
    }
    return new EnvdVersion(numbers[0], numbers[1], numbers[2]);
  }

  public boolean atLeast(EnvdVersion other) {
    return compareTo(other) >= 0;
  }

  @Override
  public int compareTo(EnvdVersion other) {
    int c = Integer.compare(major, other.major);
    if (c == 0) {
      c = Integer.compare(minor, other.minor);
    }
    return c != 0 ? c : Integer.compare(patch, other.patch);
  }

  @Override
  public String toString() {
    return major + "." + minor + "." + patch;
  }
}
