package dev.sbx.api.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.flywaydb.core.Flyway;

/** The store in PostgreSQL, for several API servers (HikariCP pool). */
public final class PostgresStore extends JdbcStore {
  private final HikariDataSource dataSource;

  private PostgresStore(HikariDataSource dataSource) {
    this.dataSource = dataSource;
  }

  /**
   * Connects to {@code jdbcUrl} (e.g. {@code jdbc:postgresql://127.0.0.1:5432/sbx}) and migrates
   * the schema.
   */
  public static PostgresStore open(String jdbcUrl, String user, String password, int poolSize) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(jdbcUrl);
    config.setUsername(user);
    config.setPassword(password);
    config.setMaximumPoolSize(poolSize);
    config.setPoolName("sbx-api-store");
    HikariDataSource dataSource = new HikariDataSource(config);
    try {
      Flyway.configure()
          .dataSource(dataSource)
          .locations("classpath:db/migration/postgresql")
          .load()
          .migrate();
    } catch (RuntimeException e) {
      dataSource.close();
      throw new StoreException("migrating " + jdbcUrl + ": " + e.getMessage(), e);
    }
    return new PostgresStore(dataSource);
  }

  @Override
  protected <T> T withConnection(SqlWork<T> work) {
    try (Connection connection = dataSource.getConnection()) {
      return work.apply(connection);
    } catch (SQLException e) {
      throw failure("PostgreSQL", e);
    }
  }

  @Override
  protected void lockTeam(Connection connection, String teamId) throws SQLException {
    try (PreparedStatement lock =
        connection.prepareStatement("SELECT id FROM teams WHERE id = ? FOR UPDATE")) {
      lock.setString(1, teamId);
      try (ResultSet ignored = lock.executeQuery()) {
        // the row lock is held until the transaction ends
      }
    }
  }

  @Override
  public void close() {
    dataSource.close();
  }
}
