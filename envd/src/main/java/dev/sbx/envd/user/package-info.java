/**
 * The sandbox's users as envd sees them: read from the rootfs's own {@code /etc/passwd} and {@code
 * /etc/group} (no libc lookup, so any rootfs works), the user a request runs as, and E2B's path
 * rules ({@code ~}, relative to the home directory, default workdir).
 */
@NullMarked
package dev.sbx.envd.user;

import org.jspecify.annotations.NullMarked;
