package dev.sbx.envd;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * What the control plane told envd about its sandbox through {@code POST /init}: the default
 * environment of every process, the access token, the default user and workdir. Thread-safe; every
 * reader sees one consistent {@link Snapshot}.
 */
public final class SandboxSettings {
  /** The user that processes run as when neither a request nor {@code /init} names one. */
  public static final String FALLBACK_USER = "root";

  /** The sandbox settings at one moment. */
  public record Snapshot(
      Map<String, String> envVars,
      @Nullable String accessToken,
      String defaultUser,
      @Nullable String defaultWorkdir,
      @Nullable Instant lastInit) {
    public Snapshot {
      envVars = Map.copyOf(envVars);
    }
  }

  private volatile Snapshot current;

  /**
   * @param baseEnv variables every process gets before those of {@code /init} (E2B_SANDBOX and the
   *     sandbox's identity)
   */
  public SandboxSettings(Map<String, String> baseEnv) {
    Map<String, String> env = new LinkedHashMap<>(baseEnv);
    env.putIfAbsent("E2B_SANDBOX", "true");
    this.current = new Snapshot(env, null, FALLBACK_USER, null, null);
  }

  public Snapshot current() {
    return current;
  }

  public Optional<String> accessToken() {
    return Optional.ofNullable(current.accessToken());
  }

  /** An update from {@code /init}; a field that is {@code null} keeps its value. */
  public record Init(
      @Nullable Map<String, String> envVars,
      @Nullable String accessToken,
      @Nullable String defaultUser,
      @Nullable String defaultWorkdir,
      @Nullable Instant timestamp) {}

  /**
   * Applies an {@code /init}. An init older than the last one applied changes nothing (returns
   * false). The access token is replaced as given: an absent token clears it, as in E2B's envd.
   */
  public synchronized boolean apply(Init init) {
    Snapshot old = current;
    if (init.timestamp() != null
        && old.lastInit() != null
        && init.timestamp().isBefore(old.lastInit())) {
      return false;
    }
    Map<String, String> env = new LinkedHashMap<>(old.envVars());
    if (init.envVars() != null) {
      env.putAll(init.envVars());
    }
    current =
        new Snapshot(
            env,
            init.accessToken() == null || init.accessToken().isEmpty() ? null : init.accessToken(),
            init.defaultUser() == null || init.defaultUser().isEmpty()
                ? old.defaultUser()
                : init.defaultUser(),
            init.defaultWorkdir() == null || init.defaultWorkdir().isEmpty()
                ? old.defaultWorkdir()
                : init.defaultWorkdir(),
            init.timestamp() != null ? init.timestamp() : old.lastInit());
    return true;
  }
}
