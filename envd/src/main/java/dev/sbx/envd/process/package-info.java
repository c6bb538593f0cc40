/**
 * envd's {@code process.Process} service, wire-compatible with E2B's envd: starts commands (with
 * pipes or in a PTY) as the request's user, streams their output to every attached client, takes
 * input, signals and resizes, and keeps a finished process visible for 30 seconds so that a late
 * {@code Connect} still sees how it ended. {@link dev.sbx.envd.process.ProcessService} is the entry
 * point.
 */
@NullMarked
package dev.sbx.envd.process;

import org.jspecify.annotations.NullMarked;
