package dev.sbx.sdk;

import java.util.Locale;

/** The state of a sandbox as the API reports it. */
public enum SandboxState {
  RUNNING,
  PAUSED;

  /** The name on the wire: {@code running} or {@code paused}. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The state for a wire name. */
  public static SandboxState fromWireName(String name) {
    for (SandboxState state : values()) {
      if (state.wireName().equals(name)) {
        return state;
      }
    }
    throw new SandboxException("unknown sandbox state '" + name + "'");
  }
}
