/** {@code sbx keys}: API keys of teams, created and revoked on the server's own store. */
@NullMarked
package dev.sbx.cli.keys;

import org.jspecify.annotations.NullMarked;
