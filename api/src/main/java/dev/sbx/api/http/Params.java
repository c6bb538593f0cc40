package dev.sbx.api.http;

import io.vertx.ext.web.RoutingContext;
import java.util.Objects;

/** Path parameters of a matched route. */
public final class Params {
  private Params() {}

  /** The value of path parameter {@code name} of the route (empty if the route has none). */
  public static String path(RoutingContext ctx, String name) {
    return Objects.requireNonNullElse(ctx.pathParam(name), "");
  }
}
