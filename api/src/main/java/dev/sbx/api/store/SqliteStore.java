package dev.sbx.api.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.locks.ReentrantLock;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * The store in one SQLite file (write-ahead log), the single-node default. One connection, used by
 * one thread at a time: SQLite serialises writers anyway, and this keeps reservations atomic.
 */
public final class SqliteStore extends JdbcStore {
  private final Connection connection;
  private final ReentrantLock lock = new ReentrantLock();

  private SqliteStore(Connection connection) {
    this.connection = connection;
  }

  /** Opens (creating it if needed) the database file {@code file} and migrates its schema. */
  public static SqliteStore open(Path file) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      SQLiteConfig config = new SQLiteConfig();
      config.setJournalMode(SQLiteConfig.JournalMode.WAL);
      config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
      config.enforceForeignKeys(true);
      config.setBusyTimeout(10_000);
      SQLiteDataSource dataSource = new SQLiteDataSource(config);
      dataSource.setUrl("jdbc:sqlite:" + file.toAbsolutePath());
      Flyway.configure()
          .dataSource(dataSource)
          .locations("classpath:db/migration/sqlite")
          .load()
          .migrate();
      return new SqliteStore(dataSource.getConnection());
    } catch (SQLException e) {
      throw failure("opening " + file, e);
    } catch (java.io.IOException | FlywayException e) {
      throw new StoreException("opening " + file + ": " + e.getMessage(), e);
    }
  }

  @Override
  protected <T> T withConnection(SqlWork<T> work) {
    lock.lock();
    try {
      return work.apply(connection);
    } catch (SQLException e) {
      throw failure("SQLite", e);
    } finally {
      lock.unlock();
    }
  }

  @Override
  protected void lockTeam(Connection connection, String teamId) {
    // one connection behind a lock: transactions do not interleave
  }

  @Override
  public void close() {
    lock.lock();
    try {
      connection.close();
    } catch (SQLException e) {
      throw failure("closing SQLite", e);
    } finally {
      lock.unlock();
    }
  }
}
