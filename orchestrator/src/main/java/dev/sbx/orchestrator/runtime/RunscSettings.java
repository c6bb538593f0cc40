package dev.sbx.orchestrator.runtime;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * Where {@link RunscRuntime} keeps things and how it runs gVisor.
 *
 * @param runsc the {@code runsc} executable (a bare name is looked up on the {@code PATH})
 * @param stateRoot runsc's {@code --root}: its container state, best on a tmpfs
 * @param sandboxesDir one directory per sandbox (the OCI bundle, overlay layers, generated files);
 *     must be on a filesystem overlayfs accepts as upper (ext4, xfs; not overlayfs)
 * @param containerPrefix prefix of every container name, so that recovery finds its own
 * @param cgroupParent the cgroup (below each hierarchy's root) that holds the sandboxes' cgroups
 * @param platform runsc's {@code --platform}: {@code systrap} (needs runsc 20230417 or newer) or
 *     {@code ptrace}; {@code kvm} needs /dev/kvm
 */
public record RunscSettings(
    Path runsc,
    Path stateRoot,
    Path sandboxesDir,
    String containerPrefix,
    String cgroupParent,
    String platform) {
  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]{0,15}");

  public RunscSettings {
    requireNonNull(runsc, "runsc");
    stateRoot = requireNonNull(stateRoot, "stateRoot").toAbsolutePath().normalize();
    sandboxesDir = requireNonNull(sandboxesDir, "sandboxesDir").toAbsolutePath().normalize();
    requireNonNull(containerPrefix, "containerPrefix");
    requireNonNull(cgroupParent, "cgroupParent");
    requireNonNull(platform, "platform");
    if (!NAME.matcher(containerPrefix).matches()) {
      throw new IllegalArgumentException(
          "containerPrefix: [a-z][a-z0-9-]{0,15}: " + containerPrefix);
    }
    if (!NAME.matcher(cgroupParent).matches()) {
      throw new IllegalArgumentException("cgroupParent: [a-z][a-z0-9-]{0,15}: " + cgroupParent);
    }
    if (!NAME.matcher(platform).matches()) {
      throw new IllegalArgumentException("platform: [a-z][a-z0-9-]{0,15}: " + platform);
    }
  }

  /**
   * The production layout: {@code /run/sbx/runsc}, {@code /var/lib/sbx/sandboxes-runsc}, {@code
   * sbx-}, cgroups below {@code sbx}, the systrap platform.
   */
  public static RunscSettings defaults() {
    return new RunscSettings(
        Path.of("runsc"),
        Path.of("/run/sbx/runsc"),
        Path.of("/var/lib/sbx/sandboxes-runsc"),
        "sbx-",
        "sbx",
        "systrap");
  }
}
