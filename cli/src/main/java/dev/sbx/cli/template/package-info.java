/** {@code sbx template}: the templates of this host (list, build the base template). */
@NullMarked
package dev.sbx.cli.template;

import org.jspecify.annotations.NullMarked;
