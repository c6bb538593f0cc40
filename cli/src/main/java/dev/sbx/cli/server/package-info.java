/** Running the server parts: all three in one JVM ({@code sbx up}) or each alone. */
@NullMarked
package dev.sbx.cli.server;

import org.jspecify.annotations.NullMarked;
