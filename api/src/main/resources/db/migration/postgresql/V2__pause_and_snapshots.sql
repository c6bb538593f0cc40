-- Pause, resume, snapshots and fork (postgresql). Keep in step with ../sqlite/V2__pause_and_snapshots.sql.
-- A paused sandbox stays in sandboxes (state PAUSED) with the time it was paused and whether its
-- memory was kept; its saved state lives on node_id.
ALTER TABLE sandboxes ADD COLUMN paused_at BIGINT;
ALTER TABLE sandboxes ADD COLUMN memory_kept BOOLEAN;
ALTER TABLE sandboxes ADD COLUMN auto_pause_memory BOOLEAN NOT NULL DEFAULT TRUE;
-- the timeout the sandbox was created with (auto-resume uses it)
ALTER TABLE sandboxes ADD COLUMN timeout_seconds INTEGER NOT NULL DEFAULT 300;

-- Persistent snapshots of sandboxes (POST /sandboxes/{id}/snapshots); the saved state is on node_id
-- under the snapshot's id.
CREATE TABLE snapshots (
  id           TEXT    PRIMARY KEY,
  team_id      TEXT    NOT NULL REFERENCES teams (id),
  name         TEXT,
  sandbox_id   TEXT    NOT NULL,
  template_id  TEXT    NOT NULL,
  node_id      TEXT    NOT NULL,
  cpu_count    INTEGER NOT NULL,
  memory_mb    INTEGER NOT NULL,
  disk_size_mb INTEGER NOT NULL,
  envd_version TEXT    NOT NULL,
  memory_kept  BOOLEAN NOT NULL,
  size_bytes   BIGINT  NOT NULL,
  created_at   BIGINT  NOT NULL
);
CREATE UNIQUE INDEX snapshots_team_name ON snapshots (team_id, name);
CREATE INDEX snapshots_team_created ON snapshots (team_id, created_at);
