package dev.sbx.api.store;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The API server's records: teams, API keys, templates, nodes, sandboxes and their lifecycle log.
 * Implementations: {@link SqliteStore} (one file, the default) and {@link PostgresStore}. Methods
 * block (JDBC): call them from worker or virtual threads, never from an event loop. Every
 * implementation passes {@code StoreContractTest}.
 */
public interface Store extends AutoCloseable {

  // teams and keys

  /**
   * On an empty database, creates a team named {@code name} with {@code limits} and an API key for
   * it, and returns that key (the only time it is known); on a database that has a team already,
   * returns empty.
   */
  Optional<CreatedApiKey> bootstrap(String name, TeamLimits limits);

  Team createTeam(String name, TeamLimits limits);

  Optional<Team> team(String teamId);

  List<Team> teams();

  /** Creates an API key ({@code e2b_} and 40 hex digits) of a team; only its hash is stored. */
  CreatedApiKey createApiKey(String teamId, String name);

  /** The key with this SHA-256 hash (hex), if it exists and is not revoked, and its team. */
  Optional<KeyOwner> findKey(String keyHash);

  /** Records that a key was used. */
  void touchKey(String keyId, Instant at);

  /** Revokes a key; false if there is no such key of that team or it was revoked already. */
  boolean revokeKey(String teamId, String keyId);

  List<ApiKey> apiKeys(String teamId);

  // templates

  /** Adds a template or replaces the one with its id (aliases included). */
  void putTemplate(TemplateRecord template);

  Optional<TemplateRecord> template(String templateId);

  Optional<TemplateRecord> templateByAlias(String alias);

  /** The templates a team may use: its own and the public ones, oldest first. */
  List<TemplateRecord> templates(String teamId);

  /** Counts a spawn of a template. */
  void templateSpawned(String templateId, Instant at);

  // nodes

  void putNode(NodeRecord node);

  List<NodeRecord> nodes();

  // sandboxes

  /**
   * Records a sandbox in state {@link SandboxState#STARTING} if its team has fewer than {@code
   * concurrencyLimit} sandboxes in the {@link SandboxState#ACTIVE} states; atomic, also with
   * several API servers on one database. False if the limit is reached.
   */
  boolean reserveSandbox(SandboxRecord sandbox, int concurrencyLimit);

  /**
   * A starting sandbox is now running on node {@code nodeId} from {@code startedAt} to {@code
   * endAt}; false if it is not starting (killed meanwhile).
   */
  boolean markRunning(String sandboxId, String nodeId, Instant startedAt, Instant endAt);

  /**
   * Marks a starting or running sandbox killed; false if it was killed already (so only one caller
   * goes on to clean up).
   */
  boolean markKilled(String sandboxId, Instant at, String reason);

  /**
   * Moves a sandbox from state {@code from} to {@code to} (a compare-and-set); false if it was not
   * in {@code from}. Not for {@link SandboxState#KILLED} (use {@link #markKilled}) nor for the
   * transitions that carry data ({@link #markPaused}, {@link #reserveResume}, {@link
   * #markResumed}).
   */
  boolean transition(String sandboxId, SandboxState from, SandboxState to);

  /** A pausing sandbox is now paused (its node saved it); false if it is not pausing. */
  boolean markPaused(String sandboxId, Instant pausedAt, boolean memoryKept);

  /** What {@link #reserveResume} did. */
  enum ResumeReservation {
    /** The sandbox is now {@link SandboxState#RESUMING}. */
    RESERVED,
    /** The team has {@code concurrencyLimit} active sandboxes; nothing changed. */
    LIMIT_REACHED,
    /** The sandbox is not paused (any more); nothing changed. */
    NOT_PAUSED
  }

  /**
   * Moves a paused sandbox to {@link SandboxState#RESUMING} if its team has fewer than {@code
   * concurrencyLimit} active sandboxes; atomic like {@link #reserveSandbox}.
   */
  ResumeReservation reserveResume(String sandboxId, int concurrencyLimit);

  /**
   * A resuming sandbox runs again on {@code nodeId} from {@code startedAt} to {@code endAt}; false
   * if it is not resuming (killed meanwhile).
   */
  boolean markResumed(String sandboxId, String nodeId, Instant startedAt, Instant endAt);

  /** Sets the end time of a running sandbox; false if it is not running. */
  boolean updateEndAt(String sandboxId, Instant endAt);

  Optional<SandboxRecord> sandbox(String sandboxId);

  /** A team's sandboxes in any of {@code states}, newest first. */
  List<SandboxRecord> sandboxes(String teamId, List<SandboxState> states);

  /** A team's sandboxes in a state, newest first. */
  List<SandboxRecord> sandboxes(String teamId, SandboxState state);

  /** All sandboxes in a state (every team). */
  List<SandboxRecord> sandboxes(SandboxState state);

  /** Running sandboxes whose end time is at or before {@code now}. */
  List<SandboxRecord> expired(Instant now);

  /** Forgets killed sandboxes (and their log) that were killed before {@code before}. */
  int purgeKilled(Instant before);

  // snapshots

  /**
   * Adds a snapshot. When the team has one with the same name, that one loses the name (it is
   * returned so its saved state can be deleted) and is forgotten.
   */
  Optional<SnapshotRecord> putSnapshot(SnapshotRecord snapshot);

  Optional<SnapshotRecord> snapshot(String snapshotId);

  Optional<SnapshotRecord> snapshotByName(String teamId, String name);

  /** A team's snapshots, newest first. */
  List<SnapshotRecord> snapshots(String teamId);

  /** Forgets a snapshot; false if there is none with that id. */
  boolean deleteSnapshot(String snapshotId);

  // lifecycle log

  void addEvent(SandboxEvent event);

  /**
   * Log lines of a sandbox at or after {@code from} (forward) or at or before it (backward), at
   * most {@code limit}, in that direction.
   */
  List<SandboxEvent> events(String sandboxId, Instant from, int limit, boolean forward);

  @Override
  void close();
}
