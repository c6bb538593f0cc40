/**
 * Interactive terminals in a sandbox ({@link dev.sbx.sdk.Sandbox#pty()}): an interactive login bash
 * on a pseudo-terminal, with raw input, resize and kill. E2B: {@code sandbox.pty}.
 */
@NullMarked
package dev.sbx.sdk.pty;

import org.jspecify.annotations.NullMarked;
