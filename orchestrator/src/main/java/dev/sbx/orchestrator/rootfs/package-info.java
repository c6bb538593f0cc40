/**
 * A sandbox's root filesystem: an overlayfs whose read-only lower layer is the template's rootfs
 * directory, shared by every sandbox of that template, and whose upper and work directories belong
 * to one sandbox and are removed with it. Mounts are made with {@code mount(2)} through the FFM API
 * (no forked {@code mount(8)}), and {@link dev.sbx.orchestrator.rootfs.MountTable} reads {@code
 * /proc/self/mountinfo} so that leftovers can be found and proven absent.
 */
@NullMarked
package dev.sbx.orchestrator.rootfs;

import org.jspecify.annotations.NullMarked;
