package dev.sbx.api.sandbox;

import dev.sbx.api.http.ApiException;
import io.vertx.ext.web.RoutingContext;
import org.jspecify.annotations.Nullable;

/** Integer query parameters, checked with E2B's validation messages. */
final class Queries {
  private Queries() {}

  static @Nullable Long longQuery(RoutingContext ctx, String name) {
    String value = ctx.request().getParam(name);
    if (value == null) {
      return null;
    }
    try {
      return Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw ApiException.validation(
          "parameter \""
              + name
              + "\" in query has an error: value "
              + value
              + ": an invalid integer");
    }
  }

  static int intQuery(RoutingContext ctx, String name, int defaultValue, int min, int max) {
    Long value = longQuery(ctx, name);
    if (value == null) {
      return defaultValue;
    }
    if (value < min || value > max) {
      throw ApiException.validation(
          "parameter \""
              + name
              + "\" in query has an error: number must be between "
              + min
              + " and "
              + max);
    }
    return value.intValue();
  }
}
