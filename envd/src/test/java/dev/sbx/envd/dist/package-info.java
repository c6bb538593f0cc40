/**
 * Tests of envd's packaged directory ({@code target/envd-dist}, built by {@code src/dist}): that it
 * runs in a rootfs holding nothing but a static busybox, as it must in any sandbox.
 */
@NullMarked
package dev.sbx.envd.dist;

import org.jspecify.annotations.NullMarked;
