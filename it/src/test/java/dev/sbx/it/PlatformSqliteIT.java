package dev.sbx.it;

import dev.sbx.api.ApiConfig;
import org.jspecify.annotations.Nullable;

/** The platform suite with the API on SQLite, as {@code sbx up} runs it. */
class PlatformSqliteIT extends PlatformSuite {
  @Override
  ApiConfig.@Nullable Postgres database() {
    return null;
  }
}
