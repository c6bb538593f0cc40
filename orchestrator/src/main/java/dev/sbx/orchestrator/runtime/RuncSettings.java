package dev.sbx.orchestrator.runtime;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * Where {@link RuncRuntime} keeps things.
 *
 * @param runc the {@code runc} executable (a bare name is looked up on the {@code PATH})
 * @param stateRoot runc's {@code --root}: its container state, best on a tmpfs
 * @param sandboxesDir one directory per sandbox: the OCI bundle ({@code config.json}, {@code
 *     rootfs} mount point), the overlay's upper and work directories, {@code hosts}, {@code
 *     resolv.conf}; must be on a filesystem overlayfs accepts as upper (ext4, xfs; not overlayfs)
 * @param containerPrefix prefix of every container name, so that recovery finds its own
 * @param cgroupParent the cgroup (below each hierarchy's root) that holds the sandboxes' cgroups
 */
public record RuncSettings(
    Path runc, Path stateRoot, Path sandboxesDir, String containerPrefix, String cgroupParent) {
  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]{0,15}");

  public RuncSettings {
    requireNonNull(runc, "runc");
    stateRoot = requireNonNull(stateRoot, "stateRoot").toAbsolutePath().normalize();
    sandboxesDir = requireNonNull(sandboxesDir, "sandboxesDir").toAbsolutePath().normalize();
    requireNonNull(containerPrefix, "containerPrefix");
    requireNonNull(cgroupParent, "cgroupParent");
    if (!NAME.matcher(containerPrefix).matches()) {
      throw new IllegalArgumentException(
          "containerPrefix: [a-z][a-z0-9-]{0,15}: " + containerPrefix);
    }
    if (!NAME.matcher(cgroupParent).matches()) {
      throw new IllegalArgumentException("cgroupParent: [a-z][a-z0-9-]{0,15}: " + cgroupParent);
    }
  }

  /** The production layout: {@code /run/sbx/runc}, {@code /var/lib/sbx/sandboxes}, {@code sbx-}. */
  public static RuncSettings defaults() {
    return new RuncSettings(
        Path.of("runc"),
        Path.of("/run/sbx/runc"),
        Path.of("/var/lib/sbx/sandboxes"),
        "sbx-",
        "sbx");
  }
}
