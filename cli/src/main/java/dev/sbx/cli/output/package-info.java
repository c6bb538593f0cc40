/** What the commands print for people: tables. */
@NullMarked
package dev.sbx.cli.output;

import org.jspecify.annotations.NullMarked;
