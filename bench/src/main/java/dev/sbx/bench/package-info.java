/**
 * Benchmarks of sbx, run side by side in one process on the machine at hand and printed as the
 * Markdown tables of {@code docs/benchmarks.md}. Start with {@code ./sbx bench}.
 */
@NullMarked
package dev.sbx.bench;

import org.jspecify.annotations.NullMarked;
