-- sbx API schema (SQLite). Timestamps: microseconds since the epoch. Maps: JSON text.
-- Keep in step with ../postgresql/V1__schema.sql.
CREATE TABLE teams (
  id                   TEXT    PRIMARY KEY,
  name                 TEXT    NOT NULL,
  slug                 TEXT    NOT NULL UNIQUE,
  concurrent_sandboxes INTEGER NOT NULL,
  max_length_hours     INTEGER NOT NULL,
  max_vcpu             INTEGER NOT NULL,
  max_ram_mb           INTEGER NOT NULL,
  requests_per_second  INTEGER NOT NULL,
  request_burst        INTEGER NOT NULL,
  created_at           BIGINT  NOT NULL
);

CREATE TABLE api_keys (
  id           TEXT   PRIMARY KEY,
  team_id      TEXT   NOT NULL REFERENCES teams (id),
  name         TEXT   NOT NULL,
  key_hash     TEXT   NOT NULL UNIQUE,
  mask         TEXT   NOT NULL,
  created_at   BIGINT NOT NULL,
  last_used_at BIGINT,
  revoked_at   BIGINT
);
CREATE INDEX api_keys_team ON api_keys (team_id);

CREATE TABLE templates (
  id              TEXT    PRIMARY KEY,
  team_id         TEXT    REFERENCES teams (id),
  is_public       BOOLEAN NOT NULL,
  cpu_count       INTEGER NOT NULL,
  memory_mb       INTEGER NOT NULL,
  disk_size_mb    INTEGER NOT NULL,
  envd_version    TEXT    NOT NULL,
  created_at      BIGINT  NOT NULL,
  updated_at      BIGINT  NOT NULL,
  last_spawned_at BIGINT,
  spawn_count     BIGINT  NOT NULL
);

CREATE TABLE template_aliases (
  alias       TEXT PRIMARY KEY,
  template_id TEXT NOT NULL REFERENCES templates (id)
);

CREATE TABLE nodes (
  id           TEXT    PRIMARY KEY,
  grpc_address TEXT    NOT NULL,
  proxy_host   TEXT    NOT NULL,
  proxy_port   INTEGER NOT NULL,
  healthy      BOOLEAN NOT NULL,
  last_seen_at BIGINT
);

CREATE TABLE sandboxes (
  id                    TEXT    PRIMARY KEY,
  team_id               TEXT    NOT NULL REFERENCES teams (id),
  template_id           TEXT    NOT NULL,
  alias                 TEXT,
  node_id               TEXT    NOT NULL,
  state                 TEXT    NOT NULL,
  started_at            BIGINT  NOT NULL,
  end_at                BIGINT  NOT NULL,
  killed_at             BIGINT,
  end_reason            TEXT,
  cpu_count             INTEGER NOT NULL,
  memory_mb             INTEGER NOT NULL,
  disk_size_mb          INTEGER NOT NULL,
  envd_version          TEXT    NOT NULL,
  metadata              TEXT    NOT NULL,
  envd_access_token     TEXT,
  traffic_access_token  TEXT,
  allow_internet_access BOOLEAN,
  network               TEXT,
  auto_pause            BOOLEAN NOT NULL,
  auto_resume           BOOLEAN NOT NULL
);
CREATE INDEX sandboxes_team_state ON sandboxes (team_id, state, started_at);
CREATE INDEX sandboxes_state_end ON sandboxes (state, end_at);

CREATE TABLE sandbox_events (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  sandbox_id TEXT    NOT NULL,
  at         BIGINT  NOT NULL,
  level      TEXT    NOT NULL,
  message    TEXT    NOT NULL,
  fields     TEXT    NOT NULL
);
CREATE INDEX sandbox_events_sandbox ON sandbox_events (sandbox_id, at);
