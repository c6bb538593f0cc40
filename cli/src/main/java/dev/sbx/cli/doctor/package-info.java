/** {@code sbx doctor}: host checks, and proof that no sandbox left anything behind. */
@NullMarked
package dev.sbx.cli.doctor;

import org.jspecify.annotations.NullMarked;
