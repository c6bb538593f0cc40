/**
 * The filesystem of a sandbox ({@link dev.sbx.sdk.Sandbox#files()}): reading and writing files
 * (bytes, text, streams, several at once), listing, stat, directories, moves, removal, watching a
 * directory, and signed upload/download URLs. E2B: {@code sandbox.files}.
 */
@NullMarked
package dev.sbx.sdk.files;

import org.jspecify.annotations.NullMarked;
