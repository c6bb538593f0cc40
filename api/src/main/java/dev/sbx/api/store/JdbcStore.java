package dev.sbx.api.store;

import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * The SQL both databases share: the schema of {@code db/migration/<dialect>} is the same in both,
 * timestamps are microseconds since the epoch (BIGINT), maps are JSON text.
 */
abstract class JdbcStore implements Store {

  /** Work done with a connection. */
  @FunctionalInterface
  interface SqlWork<T> {
    T apply(Connection connection) throws SQLException;
  }

  /** Runs {@code work} with a connection of this store, in auto-commit mode. */
  protected abstract <T> T withConnection(SqlWork<T> work);

  /**
   * Serialises the sandbox reservations of one team inside a transaction (PostgreSQL: a row lock;
   * SQLite: nothing, its writes are serialised already).
   */
  protected abstract void lockTeam(Connection connection, String teamId) throws SQLException;

  protected final <T> T transaction(SqlWork<T> work) {
    return withConnection(
        connection -> {
          connection.setAutoCommit(false);
          try {
            T result = work.apply(connection);
            connection.commit();
            return result;
          } catch (SQLException | RuntimeException e) {
            connection.rollback();
            throw e;
          } finally {
            connection.setAutoCommit(true);
          }
        });
  }

  static StoreException failure(String what, SQLException e) {
    return new StoreException(what + ": " + e.getMessage(), e);
  }

  // time and JSON

  static long micros(Instant instant) {
    return ChronoUnit.MICROS.between(Instant.EPOCH, instant);
  }

  static Instant instant(long micros) {
    return Instant.EPOCH.plus(micros, ChronoUnit.MICROS);
  }

  static @Nullable Instant nullableInstant(ResultSet row, String column) throws SQLException {
    long value = row.getLong(column);
    return row.wasNull() ? null : instant(value);
  }

  static void setNullableMicros(PreparedStatement statement, int index, @Nullable Instant value)
      throws SQLException {
    if (value == null) {
      statement.setNull(index, Types.BIGINT);
    } else {
      statement.setLong(index, micros(value));
    }
  }

  static String json(Map<String, String> map) {
    JsonObject object = new JsonObject();
    map.forEach(object::put);
    return object.encode();
  }

  static Map<String, String> map(@Nullable String json) {
    if (json == null || json.isEmpty()) {
      return Map.of();
    }
    Map<String, String> map = new LinkedHashMap<>();
    new JsonObject(json)
        .forEach(entry -> map.put(entry.getKey(), String.valueOf(entry.getValue())));
    return map;
  }

  // teams and keys

  @Override
  public Optional<CreatedApiKey> bootstrap(String name, TeamLimits limits) {
    return transaction(
        connection -> {
          try (PreparedStatement count = connection.prepareStatement("SELECT COUNT(*) FROM teams");
              ResultSet row = count.executeQuery()) {
            row.next();
            if (row.getLong(1) > 0) {
              return Optional.empty();
            }
          }
          Team team = insertTeam(connection, name, limits);
          return Optional.of(insertKey(connection, team.id(), "first key"));
        });
  }

  @Override
  public Team createTeam(String name, TeamLimits limits) {
    return transaction(connection -> insertTeam(connection, name, limits));
  }

  private static Team insertTeam(Connection connection, String name, TeamLimits limits)
      throws SQLException {
    String id = UUID.randomUUID().toString();
    String slug = slug(name) + "-" + id.substring(0, 8);
    Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
    try (PreparedStatement insert =
        connection.prepareStatement(
            "INSERT INTO teams (id, name, slug, concurrent_sandboxes, max_length_hours, max_vcpu,"
                + " max_ram_mb, requests_per_second, request_burst, created_at)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
      insert.setString(1, id);
      insert.setString(2, name);
      insert.setString(3, slug);
      insert.setInt(4, limits.concurrentSandboxes());
      insert.setInt(5, limits.maxLengthHours());
      insert.setInt(6, limits.maxVcpu());
      insert.setInt(7, limits.maxRamMb());
      insert.setInt(8, limits.requestsPerSecond());
      insert.setInt(9, limits.requestBurst());
      insert.setLong(10, micros(now));
      insert.executeUpdate();
    }
    return new Team(id, name, slug, limits, now);
  }

  private static String slug(String name) {
    String slug = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
    slug = slug.replaceAll("^-+|-+$", "");
    return slug.isEmpty() ? "team" : slug;
  }

  private static Team team(ResultSet row) throws SQLException {
    return new Team(
        row.getString("id"),
        row.getString("name"),
        row.getString("slug"),
        new TeamLimits(
            row.getInt("concurrent_sandboxes"),
            row.getInt("max_length_hours"),
            row.getInt("max_vcpu"),
            row.getInt("max_ram_mb"),
            row.getInt("requests_per_second"),
            row.getInt("request_burst")),
        instant(row.getLong("created_at")));
  }

  @Override
  public Optional<Team> team(String teamId) {
    return withConnection(
        connection -> {
          try (PreparedStatement query =
              connection.prepareStatement("SELECT * FROM teams WHERE id = ?")) {
            query.setString(1, teamId);
            try (ResultSet row = query.executeQuery()) {
              return row.next() ? Optional.of(team(row)) : Optional.<Team>empty();
            }
          }
        });
  }

  @Override
  public List<Team> teams() {
    return withConnection(
        connection -> {
          List<Team> teams = new ArrayList<>();
          try (PreparedStatement query =
                  connection.prepareStatement("SELECT * FROM teams ORDER BY created_at, id");
              ResultSet row = query.executeQuery()) {
            while (row.next()) {
              teams.add(team(row));
            }
          }
          return teams;
        });
  }

  @Override
  public CreatedApiKey createApiKey(String teamId, String name) {
    return transaction(connection -> insertKey(connection, teamId, name));
  }

  private static CreatedApiKey insertKey(Connection connection, String teamId, String name)
      throws SQLException {
    String secret = ApiKeys.generate();
    String id = UUID.randomUUID().toString();
    Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
    String mask = ApiKeys.mask(secret);
    try (PreparedStatement insert =
        connection.prepareStatement(
            "INSERT INTO api_keys (id, team_id, name, key_hash, mask, created_at)"
                + " VALUES (?, ?, ?, ?, ?, ?)")) {
      insert.setString(1, id);
      insert.setString(2, teamId);
      insert.setString(3, name);
      insert.setString(4, ApiKeys.hash(secret));
      insert.setString(5, mask);
      insert.setLong(6, micros(now));
      insert.executeUpdate();
    }
    return new CreatedApiKey(new ApiKey(id, teamId, name, mask, now, null, null), secret);
  }

  private static ApiKey apiKey(ResultSet row) throws SQLException {
    return new ApiKey(
        row.getString("id"),
        row.getString("team_id"),
        row.getString("name"),
        row.getString("mask"),
        instant(row.getLong("created_at")),
        nullableInstant(row, "last_used_at"),
        nullableInstant(row, "revoked_at"));
  }

  @Override
  public Optional<KeyOwner> findKey(String keyHash) {
    return withConnection(
        connection -> {
          ApiKey key;
          try (PreparedStatement query =
              connection.prepareStatement(
                  "SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL")) {
            query.setString(1, keyHash);
            try (ResultSet row = query.executeQuery()) {
              if (!row.next()) {
                return Optional.<KeyOwner>empty();
              }
              key = apiKey(row);
            }
          }
          try (PreparedStatement query =
              connection.prepareStatement("SELECT * FROM teams WHERE id = ?")) {
            query.setString(1, key.teamId());
            try (ResultSet row = query.executeQuery()) {
              return row.next()
                  ? Optional.of(new KeyOwner(key, team(row)))
                  : Optional.<KeyOwner>empty();
            }
          }
        });
  }

  @Override
  public void touchKey(String keyId, Instant at) {
    withConnection(
        connection -> {
          try (PreparedStatement update =
              connection.prepareStatement("UPDATE api_keys SET last_used_at = ? WHERE id = ?")) {
            update.setLong(1, micros(at));
            update.setString(2, keyId);
            return update.executeUpdate();
          }
        });
  }

  @Override
  public boolean revokeKey(String teamId, String keyId) {
    return withConnection(
        connection -> {
          try (PreparedStatement update =
              connection.prepareStatement(
                  "UPDATE api_keys SET revoked_at = ?"
                      + " WHERE id = ? AND team_id = ? AND revoked_at IS NULL")) {
            update.setLong(1, micros(Instant.now()));
            update.setString(2, keyId);
            update.setString(3, teamId);
            return update.executeUpdate() == 1;
          }
        });
  }

  @Override
  public List<ApiKey> apiKeys(String teamId) {
    return withConnection(
        connection -> {
          List<ApiKey> keys = new ArrayList<>();
          try (PreparedStatement query =
              connection.prepareStatement(
                  "SELECT * FROM api_keys WHERE team_id = ? ORDER BY created_at, id")) {
            query.setString(1, teamId);
            try (ResultSet row = query.executeQuery()) {
              while (row.next()) {
                keys.add(apiKey(row));
              }
            }
          }
          return keys;
        });
  }

  // templates

  @Override
  public void putTemplate(TemplateRecord template) {
    transaction(
        connection -> {
          try (PreparedStatement upsert =
              connection.prepareStatement(
                  "INSERT INTO templates (id, team_id, is_public, cpu_count, memory_mb,"
                      + " disk_size_mb, envd_version, created_at, updated_at, last_spawned_at,"
                      + " spawn_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                      + " ON CONFLICT (id) DO UPDATE SET team_id = excluded.team_id,"
                      + " is_public = excluded.is_public, cpu_count = excluded.cpu_count,"
                      + " memory_mb = excluded.memory_mb, disk_size_mb = excluded.disk_size_mb,"
                      + " envd_version = excluded.envd_version,"
                      + " updated_at = excluded.updated_at")) {
            upsert.setString(1, template.id());
            upsert.setString(2, template.teamId());
            upsert.setBoolean(3, template.isPublic());
            upsert.setInt(4, template.cpuCount());
            upsert.setInt(5, template.memoryMb());
            upsert.setInt(6, template.diskSizeMb());
            upsert.setString(7, template.envdVersion());
            upsert.setLong(8, micros(template.createdAt()));
            upsert.setLong(9, micros(template.updatedAt()));
            setNullableMicros(upsert, 10, template.lastSpawnedAt());
            upsert.setLong(11, template.spawnCount());
            upsert.executeUpdate();
          }
          try (PreparedStatement delete =
              connection.prepareStatement("DELETE FROM template_aliases WHERE template_id = ?")) {
            delete.setString(1, template.id());
            delete.executeUpdate();
          }
          for (String alias : template.aliases()) {
            try (PreparedStatement insert =
                connection.prepareStatement(
                    "INSERT INTO template_aliases (alias, template_id) VALUES (?, ?)"
                        + " ON CONFLICT (alias) DO UPDATE SET template_id = excluded.template_id")) {
              insert.setString(1, alias);
              insert.setString(2, template.id());
              insert.executeUpdate();
            }
          }
          return Boolean.TRUE;
        });
  }

  private static List<String> aliases(Connection connection, String templateId)
      throws SQLException {
    List<String> aliases = new ArrayList<>();
    try (PreparedStatement query =
        connection.prepareStatement(
            "SELECT alias FROM template_aliases WHERE template_id = ? ORDER BY alias")) {
      query.setString(1, templateId);
      try (ResultSet row = query.executeQuery()) {
        while (row.next()) {
          aliases.add(row.getString(1));
        }
      }
    }
    return aliases;
  }

  private static TemplateRecord template(Connection connection, ResultSet row) throws SQLException {
    String id = row.getString("id");
    return new TemplateRecord(
        id,
        row.getString("team_id"),
        row.getBoolean("is_public"),
        aliases(connection, id),
        row.getInt("cpu_count"),
        row.getInt("memory_mb"),
        row.getInt("disk_size_mb"),
        row.getString("envd_version"),
        instant(row.getLong("created_at")),
        instant(row.getLong("updated_at")),
        nullableInstant(row, "last_spawned_at"),
        row.getLong("spawn_count"));
  }

  private Optional<TemplateRecord> oneTemplate(String sql, String parameter) {
    return withConnection(
        connection -> {
          try (PreparedStatement query = connection.prepareStatement(sql)) {
            query.setString(1, parameter);
            try (ResultSet row = query.executeQuery()) {
              return row.next()
                  ? Optional.of(template(connection, row))
                  : Optional.<TemplateRecord>empty();
            }
          }
        });
  }

  @Override
  public Optional<TemplateRecord> template(String templateId) {
    return oneTemplate("SELECT * FROM templates WHERE id = ?", templateId);
  }

  @Override
  public Optional<TemplateRecord> templateByAlias(String alias) {
    return oneTemplate(
        "SELECT t.* FROM templates t JOIN template_aliases a ON a.template_id = t.id"
            + " WHERE a.alias = ?",
        alias);
  }

  @Override
  public List<TemplateRecord> templates(String teamId) {
    return withConnection(
        connection -> {
          List<TemplateRecord> templates = new ArrayList<>();
          try (PreparedStatement query =
              connection.prepareStatement(
                  "SELECT * FROM templates WHERE is_public = ? OR team_id = ?"
                      + " ORDER BY created_at, id")) {
            query.setBoolean(1, true);
            query.setString(2, teamId);
            try (ResultSet row = query.executeQuery()) {
              while (row.next()) {
                templates.add(template(connection, row));
              }
            }
          }
          return templates;
        });
  }

  @Override
  public void templateSpawned(String templateId, Instant at) {
    withConnection(
        connection -> {
          try (PreparedStatement update =
              connection.prepareStatement(
                  "UPDATE templates SET spawn_count = spawn_count + 1, last_spawned_at = ?"
                      + " WHERE id = ?")) {
            update.setLong(1, micros(at));
            update.setString(2, templateId);
            return update.executeUpdate();
          }
        });
  }

  // nodes

  @Override
  public void putNode(NodeRecord node) {
    withConnection(
        connection -> {
          try (PreparedStatement upsert =
              connection.prepareStatement(
                  "INSERT INTO nodes (id, grpc_address, proxy_host, proxy_port, healthy,"
                      + " last_seen_at) VALUES (?, ?, ?, ?, ?, ?)"
                      + " ON CONFLICT (id) DO UPDATE SET grpc_address = excluded.grpc_address,"
                      + " proxy_host = excluded.proxy_host, proxy_port = excluded.proxy_port,"
                      + " healthy = excluded.healthy, last_seen_at = excluded.last_seen_at")) {
            upsert.setString(1, node.id());
            upsert.setString(2, node.grpcAddress());
            upsert.setString(3, node.proxyHost());
            upsert.setInt(4, node.proxyPort());
            upsert.setBoolean(5, node.healthy());
            setNullableMicros(upsert, 6, node.lastSeenAt());
            return upsert.executeUpdate();
          }
        });
  }

  @Override
  public List<NodeRecord> nodes() {
    return withConnection(
        connection -> {
          List<NodeRecord> nodes = new ArrayList<>();
          try (PreparedStatement query =
                  connection.prepareStatement("SELECT * FROM nodes ORDER BY id");
              ResultSet row = query.executeQuery()) {
            while (row.next()) {
              nodes.add(
                  new NodeRecord(
                      row.getString("id"),
                      row.getString("grpc_address"),
                      row.getString("proxy_host"),
                      row.getInt("proxy_port"),
                      row.getBoolean("healthy"),
                      nullableInstant(row, "last_seen_at")));
            }
          }
          return nodes;
        });
  }

  // sandboxes

  @Override
  public boolean reserveSandbox(SandboxRecord sandbox, int concurrencyLimit) {
    return transaction(
        connection -> {
          lockTeam(connection, sandbox.teamId());
          if (activeSandboxes(connection, sandbox.teamId()) >= concurrencyLimit) {
            return false;
          }
          insertSandbox(connection, sandbox);
          return true;
        });
  }

  private static long activeSandboxes(Connection connection, String teamId) throws SQLException {
    try (PreparedStatement count =
        connection.prepareStatement(
            "SELECT COUNT(*) FROM sandboxes WHERE team_id = ? AND state IN (?, ?, ?, ?)")) {
      count.setString(1, teamId);
      for (int i = 0; i < SandboxState.ACTIVE.size(); i++) {
        count.setString(i + 2, SandboxState.ACTIVE.get(i).name());
      }
      try (ResultSet row = count.executeQuery()) {
        row.next();
        return row.getLong(1);
      }
    }
  }

  @Override
  public boolean transition(String sandboxId, SandboxState from, SandboxState to) {
    if (to == SandboxState.KILLED) {
      throw new IllegalArgumentException("use markKilled");
    }
    return withConnection(
        connection -> {
          try (PreparedStatement update =
              connection.prepareStatement(
                  "UPDATE sandboxes SET state = ? WHERE id = ? AND state = ?")) {
            update.setString(1, to.name());
            update.setString(2, sandboxId);
            update.setString(3, from.name());
            return update.executeUpdate() == 1;
          }
        });
  }

  @Override
  public boolean markPaused(String sandboxId, Instant pausedAt, boolean memoryKept) {
    return withConnection(
        connection -> {
          try (PreparedStatement update =
              connection.prepareStatement(
                  "UPDATE sandboxes SET state = ?, paused_at = ?, memory_kept = ?"
                      + " WHERE id = ? AND state = ?")) {
            update.setString(1, SandboxState.PAUSED.name());
            update.setLong(2, micros(pausedAt));
            update.setBoolean(3, memoryKept);
            update.setString(4, sandboxId);
            update.setString(5, SandboxState.PAUSING.name());
            return update.executeUpdate() == 1;
          }
        });
  }

  @Override
  public ResumeReservation reserveResume(String sandboxId, int concurrencyLimit) {
    return transaction(
        connection -> {
          String teamId;
          try (PreparedStatement query =
              connection.prepareStatement("SELECT team_id, state FROM sandboxes WHERE id = ?")) {
            query.setString(1, sandboxId);
            try (ResultSet row = query.executeQuery()) {
              if (!row.next() || !SandboxState.PAUSED.name().equals(row.getString("state"))) {
                return ResumeReservation.NOT_PAUSED;
              }
              teamId = row.getString("team_id");
            }
          }
          lockTeam(connection, teamId);
          if (activeSandboxes(connection, teamId) >= concurrencyLimit) {
            return ResumeReservation.LIMIT_REACHED;
          }
          try (PreparedStatement update =
              connection.prepareStatement(
                  "UPDATE sandboxes SET state = ? WHERE id = ? AND state = ?")) {
            update.setString(1, SandboxState.RESUMING.name());
            update.setString(2, sandboxId);
            update.setString(3, SandboxState.PAUSED.name());
            return update.executeUpdate() == 1
                ? ResumeReservation.RESERVED
                : ResumeReservation.NOT_PAUSED;
          }
        });
  }

  @Override
  public boolean markResumed(String sandboxId, String nodeId, Instant startedAt, Instant endAt) {
    return markStarted(sandboxId, SandboxState.RESUMING, nodeId, startedAt, endAt);
  }

  private static void insertSandbox(Connection connection, SandboxRecord s) throws SQLException {
    try (PreparedStatement insert =
        connection.prepareStatement(
            "INSERT INTO sandboxes (id, team_id, template_id, alias, node_id, state, started_at,"
                + " end_at, killed_at, end_reason, cpu_count, memory_mb, disk_size_mb,"
                + " envd_version, metadata, envd_access_token, traffic_access_token,"
                + " allow_internet_access, network, auto_pause, auto_resume, auto_pause_memory,"
                + " timeout_seconds, paused_at, memory_kept)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                + " ?)")) {
      insert.setString(1, s.id());
      insert.setString(2, s.teamId());
      insert.setString(3, s.templateId());
      insert.setString(4, s.alias());
      insert.setString(5, s.nodeId());
      insert.setString(6, s.state().name());
      insert.setLong(7, micros(s.startedAt()));
      insert.setLong(8, micros(s.endAt()));
      setNullableMicros(insert, 9, s.killedAt());
      insert.setString(10, s.endReason());
      insert.setInt(11, s.cpuCount());
      insert.setInt(12, s.memoryMb());
      insert.setInt(13, s.diskSizeMb());
      insert.setString(14, s.envdVersion());
      insert.setString(15, json(s.metadata()));
      insert.setString(16, s.envdAccessToken());
      insert.setString(17, s.trafficAccessToken());
      Boolean internet = s.allowInternetAccess();
      if (internet == null) {
        insert.setNull(18, Types.BOOLEAN);
      } else {
        insert.setBoolean(18, internet);
      }
      insert.setString(19, s.networkJson());
      insert.setBoolean(20, s.autoPause());
      insert.setBoolean(21, s.autoResume());
      insert.setBoolean(22, s.autoPauseMemory());
      insert.setInt(23, s.timeoutSeconds());
      setNullableMicros(insert, 24, s.pausedAt());
      Boolean memoryKept = s.memoryKept();
      if (memoryKept == null) {
        insert.setNull(25, Types.BOOLEAN);
      } else {
        insert.setBoolean(25, memoryKept);
      }
      insert.executeUpdate();
    }
  }

  private static SandboxRecord sandbox(ResultSet row) throws SQLException {
    boolean internet = row.getBoolean("allow_internet_access");
    Boolean allowInternetAccess = row.wasNull() ? null : internet;
    boolean kept = row.getBoolean("memory_kept");
    Boolean memoryKept = row.wasNull() ? null : kept;
    return new SandboxRecord(
        row.getString("id"),
        row.getString("team_id"),
        row.getString("template_id"),
        row.getString("alias"),
        row.getString("node_id"),
        SandboxState.valueOf(row.getString("state")),
        instant(row.getLong("started_at")),
        instant(row.getLong("end_at")),
        nullableInstant(row, "killed_at"),
        row.getString("end_reason"),
        row.getInt("cpu_count"),
        row.getInt("memory_mb"),
        row.getInt("disk_size_mb"),
        row.getString("envd_version"),
        map(row.getString("metadata")),
        row.getString("envd_access_token"),
        row.getString("traffic_access_token"),
        allowInternetAccess,
        row.getString("network"),
        row.getBoolean("auto_pause"),
        row.getBoolean("auto_resume"),
        row.getBoolean("auto_pause_memory"),
        row.getInt("timeout_seconds"),
        nullableInstant(row, "paused_at"),
        memoryKept);
  }

  @Override
  public boolean markRunning(String sandboxId, String nodeId, Instant startedAt, Instant endAt) {
    return markStarted(sandboxId, SandboxState.STARTING, nodeId, startedAt, endAt);
  }

  /**
   * {@code from} → RUNNING on {@code nodeId} with its times; false if it was not in {@code from}.
   */
  private boolean markStarted(
      String sandboxId, SandboxState from, String nodeId, Instant startedAt, Instant endAt) {
    return withConnection(
        connection -> {
          try (PreparedStatement update =
              connection.prepareStatement(
                  "UPDATE sandboxes SET state = ?, node_id = ?, started_at = ?, end_at = ?"
                      + " WHERE id = ? AND state = ?")) {
            update.setString(1, SandboxState.RUNNING.name());
            update.setString(2, nodeId);
            update.setLong(3, micros(startedAt));
            update.setLong(4, micros(endAt));
            update.setString(5, sandboxId);
            update.setString(6, from.name());
            return update.executeUpdate() == 1;
          }
        });
  }

  @Override
  public boolean markKilled(String sandboxId, Instant at, String reason) {
    return withConnection(
        connection -> {
          try (PreparedStatement update =
              connection.prepareStatement(
                  "UPDATE sandboxes SET state = ?, killed_at = ?, end_reason = ?"
                      + " WHERE id = ? AND state <> ?")) {
            update.setString(1, SandboxState.KILLED.name());
            update.setLong(2, micros(at));
            update.setString(3, reason);
            update.setString(4, sandboxId);
            update.setString(5, SandboxState.KILLED.name());
            return update.executeUpdate() == 1;
          }
        });
  }

  @Override
  public boolean updateEndAt(String sandboxId, Instant endAt) {
    return withConnection(
        connection -> {
          try (PreparedStatement update =
              connection.prepareStatement(
                  "UPDATE sandboxes SET end_at = ? WHERE id = ? AND state = ?")) {
            update.setLong(1, micros(endAt));
            update.setString(2, sandboxId);
            update.setString(3, SandboxState.RUNNING.name());
            return update.executeUpdate() == 1;
          }
        });
  }

  @Override
  public Optional<SandboxRecord> sandbox(String sandboxId) {
    return withConnection(
        connection -> {
          try (PreparedStatement query =
              connection.prepareStatement("SELECT * FROM sandboxes WHERE id = ?")) {
            query.setString(1, sandboxId);
            try (ResultSet row = query.executeQuery()) {
              return row.next() ? Optional.of(sandbox(row)) : Optional.<SandboxRecord>empty();
            }
          }
        });
  }

  private List<SandboxRecord> sandboxList(String sql, Object... parameters) {
    return withConnection(
        connection -> {
          List<SandboxRecord> sandboxes = new ArrayList<>();
          try (PreparedStatement query = connection.prepareStatement(sql)) {
            for (int i = 0; i < parameters.length; i++) {
              query.setObject(i + 1, parameters[i]);
            }
            try (ResultSet row = query.executeQuery()) {
              while (row.next()) {
                sandboxes.add(sandbox(row));
              }
            }
          }
          return sandboxes;
        });
  }

  @Override
  public List<SandboxRecord> sandboxes(String teamId, List<SandboxState> states) {
    if (states.isEmpty()) {
      return List.of();
    }
    Object[] parameters = new Object[states.size() + 1];
    parameters[0] = teamId;
    StringBuilder marks = new StringBuilder();
    for (int i = 0; i < states.size(); i++) {
      parameters[i + 1] = states.get(i).name();
      marks.append(i == 0 ? "?" : ", ?");
    }
    return sandboxList(
        "SELECT * FROM sandboxes WHERE team_id = ? AND state IN ("
            + marks
            + ") ORDER BY started_at DESC, id",
        parameters);
  }

  @Override
  public List<SandboxRecord> sandboxes(String teamId, SandboxState state) {
    return sandboxList(
        "SELECT * FROM sandboxes WHERE team_id = ? AND state = ? ORDER BY started_at DESC, id",
        teamId,
        state.name());
  }

  @Override
  public List<SandboxRecord> sandboxes(SandboxState state) {
    return sandboxList(
        "SELECT * FROM sandboxes WHERE state = ? ORDER BY started_at DESC, id", state.name());
  }

  @Override
  public List<SandboxRecord> expired(Instant now) {
    return sandboxList(
        "SELECT * FROM sandboxes WHERE state = ? AND end_at <= ? ORDER BY end_at, id",
        SandboxState.RUNNING.name(),
        micros(now));
  }

  @Override
  public int purgeKilled(Instant before) {
    return transaction(
        connection -> {
          try (PreparedStatement events =
              connection.prepareStatement(
                  "DELETE FROM sandbox_events WHERE sandbox_id IN"
                      + " (SELECT id FROM sandboxes WHERE state = ? AND killed_at < ?)")) {
            events.setString(1, SandboxState.KILLED.name());
            events.setLong(2, micros(before));
            events.executeUpdate();
          }
          try (PreparedStatement sandboxes =
              connection.prepareStatement(
                  "DELETE FROM sandboxes WHERE state = ? AND killed_at < ?")) {
            sandboxes.setString(1, SandboxState.KILLED.name());
            sandboxes.setLong(2, micros(before));
            return sandboxes.executeUpdate();
          }
        });
  }

  // snapshots

  @Override
  public Optional<SnapshotRecord> putSnapshot(SnapshotRecord snapshot) {
    return transaction(
        connection -> {
          Optional<SnapshotRecord> replaced = Optional.empty();
          String name = snapshot.name();
          if (name != null) {
            replaced = oneSnapshot(connection, "team_id = ? AND name = ?", snapshot.teamId(), name);
            if (replaced.isPresent()) {
              try (PreparedStatement delete =
                  connection.prepareStatement("DELETE FROM snapshots WHERE id = ?")) {
                delete.setString(1, replaced.get().id());
                delete.executeUpdate();
              }
            }
          }
          try (PreparedStatement insert =
              connection.prepareStatement(
                  "INSERT INTO snapshots (id, team_id, name, sandbox_id, template_id, node_id,"
                      + " cpu_count, memory_mb, disk_size_mb, envd_version, memory_kept,"
                      + " size_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            insert.setString(1, snapshot.id());
            insert.setString(2, snapshot.teamId());
            insert.setString(3, name);
            insert.setString(4, snapshot.sandboxId());
            insert.setString(5, snapshot.templateId());
            insert.setString(6, snapshot.nodeId());
            insert.setInt(7, snapshot.cpuCount());
            insert.setInt(8, snapshot.memoryMb());
            insert.setInt(9, snapshot.diskSizeMb());
            insert.setString(10, snapshot.envdVersion());
            insert.setBoolean(11, snapshot.memoryKept());
            insert.setLong(12, snapshot.sizeBytes());
            insert.setLong(13, micros(snapshot.createdAt()));
            insert.executeUpdate();
          }
          return replaced;
        });
  }

  private static SnapshotRecord snapshot(ResultSet row) throws SQLException {
    return new SnapshotRecord(
        row.getString("id"),
        row.getString("team_id"),
        row.getString("name"),
        row.getString("sandbox_id"),
        row.getString("template_id"),
        row.getString("node_id"),
        row.getInt("cpu_count"),
        row.getInt("memory_mb"),
        row.getInt("disk_size_mb"),
        row.getString("envd_version"),
        row.getBoolean("memory_kept"),
        row.getLong("size_bytes"),
        instant(row.getLong("created_at")));
  }

  private static Optional<SnapshotRecord> oneSnapshot(
      Connection connection, String where, String... parameters) throws SQLException {
    try (PreparedStatement query =
        connection.prepareStatement("SELECT * FROM snapshots WHERE " + where)) {
      for (int i = 0; i < parameters.length; i++) {
        query.setString(i + 1, parameters[i]);
      }
      try (ResultSet row = query.executeQuery()) {
        return row.next() ? Optional.of(snapshot(row)) : Optional.empty();
      }
    }
  }

  @Override
  public Optional<SnapshotRecord> snapshot(String snapshotId) {
    return withConnection(connection -> oneSnapshot(connection, "id = ?", snapshotId));
  }

  @Override
  public Optional<SnapshotRecord> snapshotByName(String teamId, String name) {
    return withConnection(
        connection -> oneSnapshot(connection, "team_id = ? AND name = ?", teamId, name));
  }

  @Override
  public List<SnapshotRecord> snapshots(String teamId) {
    return withConnection(
        connection -> {
          List<SnapshotRecord> snapshots = new ArrayList<>();
          try (PreparedStatement query =
              connection.prepareStatement(
                  "SELECT * FROM snapshots WHERE team_id = ? ORDER BY created_at DESC, id")) {
            query.setString(1, teamId);
            try (ResultSet row = query.executeQuery()) {
              while (row.next()) {
                snapshots.add(snapshot(row));
              }
            }
          }
          return snapshots;
        });
  }

  @Override
  public boolean deleteSnapshot(String snapshotId) {
    return withConnection(
        connection -> {
          try (PreparedStatement delete =
              connection.prepareStatement("DELETE FROM snapshots WHERE id = ?")) {
            delete.setString(1, snapshotId);
            return delete.executeUpdate() == 1;
          }
        });
  }

  // lifecycle log

  @Override
  public void addEvent(SandboxEvent event) {
    withConnection(
        connection -> {
          try (PreparedStatement insert =
              connection.prepareStatement(
                  "INSERT INTO sandbox_events (sandbox_id, at, level, message, fields)"
                      + " VALUES (?, ?, ?, ?, ?)")) {
            insert.setString(1, event.sandboxId());
            insert.setLong(2, micros(event.at()));
            insert.setString(3, event.level());
            insert.setString(4, event.message());
            insert.setString(5, json(event.fields()));
            return insert.executeUpdate();
          }
        });
  }

  @Override
  public List<SandboxEvent> events(String sandboxId, Instant from, int limit, boolean forward) {
    String sql =
        forward
            ? "SELECT * FROM sandbox_events WHERE sandbox_id = ? AND at >= ?"
                + " ORDER BY at, seq LIMIT ?"
            : "SELECT * FROM sandbox_events WHERE sandbox_id = ? AND at <= ?"
                + " ORDER BY at DESC, seq DESC LIMIT ?";
    return withConnection(
        connection -> {
          List<SandboxEvent> events = new ArrayList<>();
          try (PreparedStatement query = connection.prepareStatement(sql)) {
            query.setString(1, sandboxId);
            query.setLong(2, micros(from));
            query.setInt(3, limit);
            try (ResultSet row = query.executeQuery()) {
              while (row.next()) {
                events.add(
                    new SandboxEvent(
                        row.getString("sandbox_id"),
                        instant(row.getLong("at")),
                        row.getString("level"),
                        row.getString("message"),
                        map(row.getString("fields"))));
              }
            }
          }
          return events;
        });
  }
}
