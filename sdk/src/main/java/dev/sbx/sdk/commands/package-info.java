/**
 * Running commands in a sandbox ({@link dev.sbx.sdk.Sandbox#commands()}): foreground runs with
 * streaming output, background handles, stdin, signals, listing and reattaching to processes. E2B:
 * {@code sandbox.commands}.
 */
@NullMarked
package dev.sbx.sdk.commands;

import org.jspecify.annotations.NullMarked;
