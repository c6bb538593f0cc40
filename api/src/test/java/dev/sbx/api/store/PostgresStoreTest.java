package dev.sbx.api.store;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sbx.testing.PostgresServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The store contract on a real PostgreSQL (one server per class, one database per test). */
@SuppressWarnings("NullAway") // the server is started before all tests
class PostgresStoreTest extends StoreContractTest {
  private static PostgresServer server;
  private static int databases;

  @BeforeAll
  static void startServer() {
    assumeTrue(PostgresServer.available(), "needs root and PostgreSQL (install-deps.sh test)");
    server = PostgresServer.start();
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.close();
    }
  }

  @Override
  protected Store openStore() throws Exception {
    String database = "sbx_test_" + (++databases);
    Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
    while (true) {
      try (Connection connection =
              DriverManager.getConnection(server.jdbcUrl(), server.user(), "");
          Statement statement = connection.createStatement()) {
        statement.execute("CREATE DATABASE " + database);
        break;
      } catch (java.sql.SQLException e) {
        // "the database system is starting up" right after the port opens
        if (Instant.now().isAfter(deadline)) {
          throw e;
        }
        Thread.sleep(200);
      }
    }
    String url = server.jdbcUrl().replace("/postgres", "/" + database);
    return PostgresStore.open(url, server.user(), "", 8);
  }
}
