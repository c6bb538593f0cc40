/**
 * envd's {@code filesystem.Filesystem} Connect service, wire-compatible with E2B's envd: stat, make
 * directory, move, list, remove, and directory watches (streamed, or buffered for polling) built on
 * inotify. Requests run as root but resolve paths for, and create directories owned by, the user
 * the request names.
 */
@NullMarked
package dev.sbx.envd.filesystem;

import org.jspecify.annotations.NullMarked;
