/**
 * Linux system calls that envd needs and the JDK does not offer, bound with the foreign function
 * API (java.lang.foreign) to the C library: spawning a child with {@code posix_spawn} into a new
 * session, reaping it with {@code waitpid} and a pidfd, signals, pipes, pseudoterminals, {@code
 * poll}, inotify, {@code statfs}, extended attributes and setting the clock. Every binding goes
 * through {@code Libc}, which captures {@code errno} and turns it into exceptions. Blocking calls
 * are made on platform threads only.
 */
@NullMarked
package dev.sbx.envd.linux;

import org.jspecify.annotations.NullMarked;
