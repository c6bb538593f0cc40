package dev.sbx.sdk;

import static java.util.Objects.requireNonNull;

import com.google.gson.JsonObject;
import dev.sbx.sdk.commands.Commands;
import dev.sbx.sdk.files.Filesystem;
import dev.sbx.sdk.internal.ApiClient;
import dev.sbx.sdk.internal.EnvdClient;
import dev.sbx.sdk.internal.EnvdCommands;
import dev.sbx.sdk.internal.EnvdFilesystem;
import dev.sbx.sdk.internal.EnvdPty;
import dev.sbx.sdk.internal.EnvdVersion;
import dev.sbx.sdk.internal.PersistenceApi;
import dev.sbx.sdk.pty.Pty;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A sandbox: created with {@link #create}, or found again with {@link #connect}. Its {@link
 * #commands()}, {@link #pty()} and {@link #files()} talk to its envd; the lifecycle methods talk to
 * the control-plane API. The requests are those of E2B's JS SDK 2.51 (see {@code sdk/README.md}).
 *
 * <pre>{@code
 * try (Sandbox sandbox = Sandbox.create()) {            // E2B_API_KEY etc. from the environment
 *   CommandResult result = sandbox.commands().run("echo hello");
 *   sandbox.files().write("/home/user/a.txt", "hi");
 * }                                                    // close() kills the sandbox
 * }</pre>
 *
 * <p>{@link #close()} kills the sandbox, as leaving a {@code with Sandbox() as sandbox:} block does
 * in E2B's Python SDK, and ends its open streams. To keep a sandbox running, don't close it; call
 * {@link #disconnect()} instead. The HTTP connections to envd (through the client proxy) are one
 * pool for every sandbox of the JVM, as in E2B's SDKs: a sandbox opens none of its own.
 *
 * <p>In debug mode ({@code E2B_DEBUG=true}) no API call is made: the sandbox is {@value
 * #DEBUG_SANDBOX_ID}, its envd is {@code http://localhost:49983} (or {@code sandboxUrl}), and kill,
 * setTimeout and getMetrics do nothing.
 */
public final class Sandbox implements AutoCloseable {
  /** The sandbox ID of debug mode. */
  public static final String DEBUG_SANDBOX_ID = "debug_sandbox_id";

  private final ConnectionConfig config;
  private final ApiClient api;
  private final String sandboxId;
  private final @Nullable String sandboxDomain;
  private final EnvdVersion envdVersion;
  private final @Nullable String envdAccessToken;
  private final @Nullable String trafficAccessToken;
  private final EnvdClient envd;
  private final Commands commands;
  private final Pty pty;
  private final Filesystem files;

  private Sandbox(
      ConnectionConfig config,
      String sandboxId,
      @Nullable String sandboxDomain,
      EnvdVersion envdVersion,
      @Nullable String envdAccessToken,
      @Nullable String trafficAccessToken) {
    this.config = config;
    this.api = new ApiClient(config);
    this.sandboxId = sandboxId;
    this.sandboxDomain = sandboxDomain;
    this.envdVersion = envdVersion;
    this.envdAccessToken = envdAccessToken;
    this.trafficAccessToken = trafficAccessToken;
    this.envd = new EnvdClient(config, sandboxId, sandboxDomain, envdAccessToken, envdVersion);
    this.commands = new EnvdCommands(envd);
    this.pty = new EnvdPty(envd);
    this.files = new EnvdFilesystem(envd);
  }

  private static Sandbox of(ConnectionConfig config, ApiClient.SandboxHandle handle) {
    return new Sandbox(
        config,
        handle.sandboxId(),
        handle.domain(),
        EnvdVersion.parse(handle.envdVersion()),
        handle.envdAccessToken(),
        handle.trafficAccessToken());
  }

  private static Sandbox debug(ConnectionConfig config) {
    return new Sandbox(config, DEBUG_SANDBOX_ID, null, EnvdVersion.DEBUG_FALLBACK, null, null);
  }

  // ---- creating and finding sandboxes

  /** Creates a sandbox from the {@code base} template, configured from the environment. */
  public static Sandbox create() {
    return create(SandboxOptions.defaults());
  }

  /** Creates a sandbox from a template, configured from the environment. */
  public static Sandbox create(String template) {
    return create(SandboxOptions.builder().template(template).build());
  }

  /**
   * Creates a sandbox: {@code POST /v2/sandboxes} with the options that were set.
   *
   * @throws AuthenticationException when there is no API key or it was rejected
   * @throws RateLimitException when the team's limit of sandboxes is reached
   * @throws TemplateException when the template's envd is too old (the sandbox is killed)
   */
  public static Sandbox create(SandboxOptions options) {
    requireNonNull(options, "options");
    ConnectionConfig config = options.connection();
    if (config.debug()) {
      return debug(config);
    }
    JsonObject body = new JsonObject();
    body.addProperty("templateID", options.template());
    if (!options.metadata().isEmpty()) {
      JsonObject metadata = new JsonObject();
      options.metadata().forEach(metadata::addProperty);
      body.add("metadata", metadata);
    }
    if (!options.envs().isEmpty()) {
      JsonObject envs = new JsonObject();
      options.envs().forEach(envs::addProperty);
      body.add("envVars", envs);
    }
    if (options.timeout() != null) {
      body.addProperty("timeout", ApiClient.seconds(options.timeout()));
    }
    if (options.secure() != null) {
      body.addProperty("secure", options.secure());
    }
    if (options.allowInternetAccess() != null) {
      body.addProperty("allow_internet_access", options.allowInternetAccess());
    }
    ApiClient api = new ApiClient(config);
    ApiClient.SandboxHandle handle = api.create(body);
    EnvdVersion version = EnvdVersion.parse(handle.envdVersion());
    if (!version.atLeast(EnvdVersion.V0_1_0)) {
      api.kill(handle.sandboxId());
      throw new TemplateException(
          "You need to update the template to use the new SDK: its envd is "
              + version
              + ", 0.1.0 or newer is needed. The sandbox "
              + handle.sandboxId()
              + " was killed");
    }
    return of(config, handle);
  }

  /** Connects to a running (or paused: it is resumed) sandbox, configured from the environment. */
  public static Sandbox connect(String sandboxId) {
    return connect(sandboxId, ConnectionConfig.fromEnvironment(), null);
  }

  /** Connects to a sandbox. */
  public static Sandbox connect(String sandboxId, ConnectionConfig config) {
    return connect(sandboxId, config, null);
  }

  /**
   * Connects to a sandbox: {@code POST /v2/sandboxes/{id}/connect} with {@code {}}, or {@code
   * {"timeout": s}} when {@code timeout} is given (the server only ever extends the timeout).
   *
   * @throws NotFoundException when there is no such sandbox
   */
  public static Sandbox connect(
      String sandboxId, ConnectionConfig config, @Nullable Duration timeout) {
    requireNonNull(sandboxId, "sandboxId");
    requireNonNull(config, "config");
    if (config.debug()) {
      return debug(config);
    }
    return of(config, new ApiClient(config).connect(sandboxId, timeout));
  }

  /** Lists every running and paused sandbox, configured from the environment. */
  public static SandboxPaginator list() {
    return list(SandboxQuery.all(), ConnectionConfig.fromEnvironment());
  }

  /** Lists sandboxes, configured from the environment. */
  public static SandboxPaginator list(SandboxQuery query) {
    return list(query, ConnectionConfig.fromEnvironment());
  }

  /** Lists sandboxes page by page ({@code GET /v2/sandboxes}; also in debug mode). */
  public static SandboxPaginator list(SandboxQuery query, ConnectionConfig config) {
    return new SandboxPaginator(new ApiClient(config), requireNonNull(query, "query"));
  }

  /** Kills a sandbox, configured from the environment; false if it did not exist. */
  public static boolean kill(String sandboxId) {
    return kill(sandboxId, ConnectionConfig.fromEnvironment());
  }

  /** Kills a sandbox ({@code DELETE /sandboxes/{id}}); false if it did not exist. */
  public static boolean kill(String sandboxId, ConnectionConfig config) {
    requireNonNull(sandboxId, "sandboxId");
    if (config.debug()) {
      return true;
    }
    return new ApiClient(config).kill(sandboxId);
  }

  /** Describes a sandbox ({@code GET /sandboxes/{id}}). */
  public static SandboxInfo getInfo(String sandboxId, ConnectionConfig config) {
    requireNonNull(sandboxId, "sandboxId");
    return new ApiClient(config).getInfo(sandboxId);
  }

  /**
   * Sets a sandbox's timeout from now ({@code POST /sandboxes/{id}/timeout}); it may shorten it.
   */
  public static void setTimeout(String sandboxId, Duration timeout, ConnectionConfig config) {
    requireNonNull(sandboxId, "sandboxId");
    requireNonNull(timeout, "timeout");
    if (timeout.isNegative()) {
      throw new InvalidArgumentException("timeout must not be negative");
    }
    if (config.debug()) {
      return;
    }
    new ApiClient(config).setTimeout(sandboxId, timeout);
  }

  /**
   * A sandbox's log ({@code GET /v2/sandboxes/{id}/logs}), also of a sandbox that has ended. Not in
   * E2B's SDKs (their CLI reads the same endpoint).
   *
   * @throws NotFoundException when the team has no such sandbox
   */
  public static List<SandboxLogEntry> getLogs(
      String sandboxId, SandboxLogQuery query, ConnectionConfig config) {
    requireNonNull(sandboxId, "sandboxId");
    requireNonNull(query, "query");
    if (config.debug()) {
      return List.of();
    }
    return new ApiClient(config).logs(sandboxId, query);
  }

  // ---- this sandbox

  public String sandboxId() {
    return sandboxId;
  }

  /** The domain the API gave this sandbox, or {@code null} for the configured one. */
  public @Nullable String sandboxDomain() {
    return sandboxDomain;
  }

  /** The version of the sandbox's envd (99.99.99 in debug mode). */
  public String envdVersion() {
    return envdVersion.toString();
  }

  /** The token envd requires ({@code X-Access-Token}), for a secure sandbox. */
  public @Nullable String envdAccessToken() {
    return envdAccessToken;
  }

  /** The token needed to reach the sandbox's ports when public traffic is off. */
  public @Nullable String trafficAccessToken() {
    return trafficAccessToken;
  }

  public ConnectionConfig connectionConfig() {
    return config;
  }

  /** The sandbox's commands. */
  public Commands commands() {
    return commands;
  }

  /** The sandbox's pseudo-terminals. */
  public Pty pty() {
    return pty;
  }

  /** The sandbox's filesystem. */
  public Filesystem files() {
    return files;
  }

  /** Kills this sandbox; false if it no longer existed. Does nothing in debug mode. */
  public boolean kill() {
    return kill(sandboxId, config);
  }

  /** Sets this sandbox's timeout from now. Does nothing in debug mode. */
  public void setTimeout(Duration timeout) {
    setTimeout(sandboxId, timeout, config);
  }

  /** Describes this sandbox ({@code GET /sandboxes/{id}}). */
  public SandboxInfo getInfo() {
    return getInfo(sandboxId, config);
  }

  /**
   * The host at which a port of this sandbox is reached: {@code <port>-<sandboxId>.<domain>}, in
   * debug mode {@code localhost:<port>}.
   */
  public String getHost(int port) {
    return config.host(sandboxId, sandboxDomain, port);
  }

  /**
   * Whether the sandbox is running: envd's {@code GET /health} answers 2xx (502 from the proxy
   * means not running).
   */
  public boolean isRunning() {
    HttpRequest request = envd.request("/health").GET().build();
    HttpResponse<byte[]> response = envd.send(request, HttpResponse.BodyHandlers.ofByteArray());
    if (response.statusCode() == 502) {
      return false;
    }
    if (response.statusCode() / 100 != 2) {
      throw EnvdClient.httpError(response.statusCode(), response.body());
    }
    return true;
  }

  /** All metrics of this sandbox; empty in debug mode. */
  public List<SandboxMetrics> getMetrics() {
    return getMetrics(null, null);
  }

  /** The metrics of this sandbox between {@code start} and {@code end} (either may be null). */
  public List<SandboxMetrics> getMetrics(@Nullable Instant start, @Nullable Instant end) {
    if (config.debug()) {
      return List.of();
    }
    if (!envdVersion.atLeast(EnvdVersion.V0_1_5)) {
      throw new TemplateException(
          "Metrics need envd 0.1.5 or newer; this sandbox runs "
              + envdVersion
              + ". Rebuild the template");
    }
    return api.metrics(sandboxId, start, end);
  }

  /** See {@link Filesystem#uploadUrl}. */
  public String uploadUrl(
      @Nullable String path, @Nullable String user, @Nullable Duration signatureExpiration) {
    return files.uploadUrl(path, user, signatureExpiration);
  }

  /** See {@link Filesystem#downloadUrl}. */
  public String downloadUrl(
      String path, @Nullable String user, @Nullable Duration signatureExpiration) {
    return files.downloadUrl(path, user, signatureExpiration);
  }

  // ---- pause, resume, snapshots and fork (E2B's persistence API)

  /**
   * Pauses a sandbox with its memory ({@code POST /sandboxes/{id}/pause}); false if paused already.
   */
  public static boolean pause(String sandboxId, ConnectionConfig config) {
    return pause(sandboxId, true, config);
  }

  /**
   * Pauses a sandbox: with {@code keepMemory} its processes and memory are kept and go on after
   * {@link #connect}; without, only its files (a cold boot on resume). True when paused, false when
   * it was paused already (409). Does nothing (true) in debug mode.
   *
   * @throws NotFoundException when there is no such sandbox
   */
  public static boolean pause(String sandboxId, boolean keepMemory, ConnectionConfig config) {
    requireNonNull(sandboxId, "sandboxId");
    if (config.debug()) {
      return true;
    }
    return new PersistenceApi(config).pause(sandboxId, keepMemory);
  }

  /** Pauses this sandbox with its memory; false if it was paused already. */
  public boolean pause() {
    return pause(sandboxId, true, config);
  }

  /** Pauses this sandbox, with or without its memory; false if it was paused already. */
  public boolean pause(boolean keepMemory) {
    return pause(sandboxId, keepMemory, config);
  }

  /**
   * Resumes this sandbox if it is paused, or extends its timeout if it runs ({@code POST
   * /v2/sandboxes/{id}/connect}); this object stays usable (same ID and tokens).
   *
   * @param timeout the new timeout from now, or null for the server's default
   */
  public Sandbox connect(@Nullable Duration timeout) {
    if (!config.debug()) {
      api.connect(sandboxId, timeout);
    }
    return this;
  }

  /** Snapshots a sandbox ({@code POST /sandboxes/{id}/snapshots}); it keeps running. */
  public static SnapshotInfo createSnapshot(
      String sandboxId, @Nullable String name, ConnectionConfig config) {
    requireNonNull(sandboxId, "sandboxId");
    PersistenceApi.Snapshot snapshot = new PersistenceApi(config).createSnapshot(sandboxId, name);
    return new SnapshotInfo(snapshot.snapshotId(), snapshot.names());
  }

  /** Snapshots this sandbox without a name. */
  public SnapshotInfo createSnapshot() {
    return createSnapshot(sandboxId, null, config);
  }

  /** Snapshots this sandbox under {@code name}: {@link #create(String)} takes the name too. */
  public SnapshotInfo createSnapshot(String name) {
    return createSnapshot(sandboxId, requireNonNull(name, "name"), config);
  }

  /** Lists the team's snapshots, or those of one sandbox ({@code GET /snapshots}). */
  public static SnapshotPaginator listSnapshots(
      @Nullable String sandboxId, @Nullable Integer limit, ConnectionConfig config) {
    return new SnapshotPaginator(new PersistenceApi(config), sandboxId, limit);
  }

  /** Lists the snapshots of this sandbox. */
  public SnapshotPaginator listSnapshots() {
    return listSnapshots(sandboxId, null, config);
  }

  /** Deletes a snapshot ({@code DELETE /templates/{snapshotId}}); false if there was none. */
  public static boolean deleteSnapshot(String snapshotId, ConnectionConfig config) {
    requireNonNull(snapshotId, "snapshotId");
    return new PersistenceApi(config).deleteSnapshot(snapshotId);
  }

  /**
   * Forks a sandbox ({@code POST /sandboxes/{id}/fork}): it is checkpointed in place and {@code
   * count} (1..100) new sandboxes start from the checkpoint, each with the parent's files and
   * memory, its own ID and tokens. One result per child, a sandbox or its error.
   *
   * @param timeout the children's timeout, or null for the server's default (15 s)
   */
  public static List<ForkResult> fork(
      String sandboxId, int count, @Nullable Duration timeout, ConnectionConfig config) {
    requireNonNull(sandboxId, "sandboxId");
    if (count < 1 || count > 100) {
      throw new InvalidArgumentException("count must be between 1 and 100, got " + count);
    }
    List<ForkResult> results = new java.util.ArrayList<>();
    for (PersistenceApi.ForkChild child :
        new PersistenceApi(config).fork(sandboxId, count, timeout)) {
      ApiClient.SandboxHandle handle = child.sandbox();
      results.add(
          handle != null
              ? new ForkResult(of(config, handle), null)
              : new ForkResult(null, child.error()));
    }
    return List.copyOf(results);
  }

  /** Forks this sandbox into {@code count} new ones. */
  public List<ForkResult> fork(int count, @Nullable Duration timeout) {
    return fork(sandboxId, count, timeout, config);
  }

  /**
   * Ends this object's streams that are still open (command handles, watches) without killing the
   * sandbox. Use it instead of {@link #close()} to keep the sandbox.
   */
  public void disconnect() {
    envd.close();
  }

  /** Kills the sandbox (see {@link #kill()}) and ends its open streams. */
  @Override
  public void close() {
    try {
      kill();
    } finally {
      envd.close();
    }
  }

  @Override
  public String toString() {
    return "Sandbox[" + sandboxId + ", envd " + envdVersion + " at " + envd.baseUrl() + "]";
  }
}
