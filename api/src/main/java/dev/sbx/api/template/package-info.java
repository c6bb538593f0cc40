/** E2B's template endpoints (list, get, alias lookup) over the store's templates. */
@NullMarked
package dev.sbx.api.template;

import org.jspecify.annotations.NullMarked;
