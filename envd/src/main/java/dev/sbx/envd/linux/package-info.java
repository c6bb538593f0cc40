/**
 * Linux system calls envd needs and the JDK does not offer, bound through the foreign function API
 * ({@code java.lang.foreign}): inotify, {@code statfs}, extended attributes, and the process and
 * terminal calls. Every binding reports a failed call as an {@link java.io.IOException} carrying
 * the call's {@code errno} text.
 */
@NullMarked
package dev.sbx.envd.linux;

import org.jspecify.annotations.NullMarked;
