package dev.sbx.cli.server;

import dev.sbx.api.ApiConfig;
import dev.sbx.api.store.PostgresStore;
import dev.sbx.api.store.SqliteStore;
import dev.sbx.api.store.Store;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/** Where the API's data lives: SQLite in the data directory, or PostgreSQL. */
public final class StoreOptions {

  @Option(
      names = "--data-dir",
      defaultValue = "${env:SBX_DATA_DIR:-/var/lib/sbx}",
      description = "SQLite database and token key (env SBX_DATA_DIR; default ${DEFAULT-VALUE}).")
  Path dataDir = Path.of("/var/lib/sbx");

  @Option(
      names = "--postgres-url",
      defaultValue = "${env:SBX_POSTGRES_URL}",
      description = "JDBC URL of PostgreSQL instead of SQLite (env SBX_POSTGRES_URL).")
  @Nullable String postgresUrl;

  @Option(
      names = "--postgres-user",
      defaultValue = "${env:SBX_POSTGRES_USER:-sbx}",
      description = "PostgreSQL user (env SBX_POSTGRES_USER; default ${DEFAULT-VALUE}).")
  String postgresUser = "sbx";

  @Option(
      names = "--postgres-password",
      defaultValue = "${env:SBX_POSTGRES_PASSWORD:-}",
      description = "PostgreSQL password (env SBX_POSTGRES_PASSWORD).")
  String postgresPassword = "";

  @Option(
      names = "--postgres-pool",
      defaultValue = "${env:SBX_POSTGRES_POOL:-10}",
      description = "PostgreSQL connections (env SBX_POSTGRES_POOL; default ${DEFAULT-VALUE}).")
  int postgresPool = 10;

  public Path dataDir() {
    return dataDir;
  }

  /** The PostgreSQL settings, or null for SQLite. */
  public ApiConfig.@Nullable Postgres postgres() {
    String url = postgresUrl;
    if (url == null || url.isBlank()) {
      return null;
    }
    return new ApiConfig.Postgres(url, postgresUser, postgresPassword, postgresPool);
  }

  /** Opens the store these options name (the caller closes it). */
  public Store open() {
    ApiConfig.Postgres postgres = postgres();
    return postgres == null
        ? SqliteStore.open(dataDir.resolve("sbx.db"))
        : PostgresStore.open(
            postgres.jdbcUrl(), postgres.user(), postgres.password(), postgres.poolSize());
  }
}
