package dev.sbx.envd;

import static java.util.Objects.requireNonNull;

import dev.sbx.envd.user.RequestUsers;

/**
 * What the parts of one envd share: its configuration, the sandbox settings that {@code /init}
 * updates, and the lookup of a request's user.
 */
public record EnvdContext(EnvdConfig config, SandboxSettings settings, RequestUsers users) {
  public EnvdContext {
    requireNonNull(config, "config");
    requireNonNull(settings, "settings");
    requireNonNull(users, "users");
  }
}
