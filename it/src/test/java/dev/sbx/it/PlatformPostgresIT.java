package dev.sbx.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sbx.api.ApiConfig;
import dev.sbx.testing.PostgresServer;
import org.jspecify.annotations.Nullable;

/**
 * The platform suite with the API on PostgreSQL: Debian's PostgreSQL, started on loopback for the
 * run by {@link PostgresServer} (installed by {@code scripts/install-deps.sh test}).
 */
class PlatformPostgresIT extends PlatformSuite {
  private @Nullable PostgresServer postgres;

  @Override
  ApiConfig.@Nullable Postgres database() {
    assertThat(PostgresServer.available()).as("root and Debian's PostgreSQL").isTrue();
    PostgresServer started = PostgresServer.start();
    postgres = started;
    return new ApiConfig.Postgres(started.jdbcUrl(), started.user(), "", 4);
  }

  @Override
  void closeDatabase() {
    if (postgres != null) {
      postgres.close();
    }
  }
}
