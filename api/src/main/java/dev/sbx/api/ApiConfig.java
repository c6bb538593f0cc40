package dev.sbx.api;

import dev.sbx.api.node.NodeAddress;
import dev.sbx.api.store.TeamLimits;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * How an {@link ApiServer} runs.
 *
 * @param host address to listen on
 * @param port port to listen on (0: any free port)
 * @param dataDir where the SQLite database ({@code sbx.db}) lives when no PostgreSQL is given
 * @param postgres PostgreSQL to use instead of SQLite, or null
 * @param nodes the orchestrators
 * @param channels opens a gRPC channel to a node (plaintext Netty by default)
 * @param adminToken the operator's {@code X-Admin-Token}, or null to turn admin access off
 * @param tokenSeed the HMAC key of envd and traffic tokens (at least 16 bytes)
 * @param firstTeamLimits the limits of the team created on first start
 * @param domain the {@code domain} returned to SDKs, or null (they use their own)
 * @param envdVersion the envd version of templates registered from nodes
 * @param maxBodyBytes the largest request body (413 above)
 * @param nodeCheckInterval how often nodes are health-checked and reconciled
 * @param evictorInterval how often expired sandboxes are looked for
 * @param nodeTtl how long a node that registered itself ({@code POST /admin/nodes}) stays without
 *     registering again before it is dropped (about 3x the orchestrators' registration interval)
 */
public record ApiConfig(
    String host,
    int port,
    Path dataDir,
    @Nullable Postgres postgres,
    List<NodeAddress> nodes,
    Function<NodeAddress, ManagedChannel> channels,
    @Nullable String adminToken,
    byte[] tokenSeed,
    TeamLimits firstTeamLimits,
    @Nullable String domain,
    String envdVersion,
    long maxBodyBytes,
    Duration nodeCheckInterval,
    Duration evictorInterval,
    Duration nodeTtl) {

  /** A PostgreSQL database. */
  public record Postgres(String jdbcUrl, String user, String password, int poolSize) {}

  public ApiConfig {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(dataDir, "dataDir");
    nodes = List.copyOf(nodes);
    tokenSeed = tokenSeed.clone();
  }

  /** Plaintext Netty channels to {@code host:port}. */
  public static ManagedChannel plaintextChannel(NodeAddress node) {
    return NettyChannelBuilder.forTarget(node.grpcTarget()).usePlaintext().build();
  }

  /** The defaults of a single node: 127.0.0.1:3000, SQLite in {@code dataDir}. */
  public static ApiConfig defaults(Path dataDir, List<NodeAddress> nodes, byte[] tokenSeed) {
    return new ApiConfig(
        "127.0.0.1",
        3000,
        dataDir,
        null,
        nodes,
        ApiConfig::plaintextChannel,
        null,
        tokenSeed,
        TeamLimits.BASE,
        null,
        "0.6.4",
        1024 * 1024,
        Duration.ofSeconds(2),
        Duration.ofMillis(200),
        Duration.ofSeconds(15));
  }

  public ApiConfig withHost(String newHost) {
    return new ApiConfig(
        newHost,
        port,
        dataDir,
        postgres,
        nodes,
        channels,
        adminToken,
        tokenSeed,
        firstTeamLimits,
        domain,
        envdVersion,
        maxBodyBytes,
        nodeCheckInterval,
        evictorInterval,
        nodeTtl);
  }

  /** The {@code domain} returned to SDKs in create and connect answers (null: theirs). */
  public ApiConfig withDomain(@Nullable String newDomain) {
    return new ApiConfig(
        host,
        port,
        dataDir,
        postgres,
        nodes,
        channels,
        adminToken,
        tokenSeed,
        firstTeamLimits,
        newDomain,
        envdVersion,
        maxBodyBytes,
        nodeCheckInterval,
        evictorInterval,
        nodeTtl);
  }

  public ApiConfig withPort(int newPort) {
    return new ApiConfig(
        host,
        newPort,
        dataDir,
        postgres,
        nodes,
        channels,
        adminToken,
        tokenSeed,
        firstTeamLimits,
        domain,
        envdVersion,
        maxBodyBytes,
        nodeCheckInterval,
        evictorInterval,
        nodeTtl);
  }

  public ApiConfig withChannels(Function<NodeAddress, ManagedChannel> newChannels) {
    return new ApiConfig(
        host,
        port,
        dataDir,
        postgres,
        nodes,
        newChannels,
        adminToken,
        tokenSeed,
        firstTeamLimits,
        domain,
        envdVersion,
        maxBodyBytes,
        nodeCheckInterval,
        evictorInterval,
        nodeTtl);
  }

  public ApiConfig withAdminToken(@Nullable String token) {
    return new ApiConfig(
        host,
        port,
        dataDir,
        postgres,
        nodes,
        channels,
        token,
        tokenSeed,
        firstTeamLimits,
        domain,
        envdVersion,
        maxBodyBytes,
        nodeCheckInterval,
        evictorInterval,
        nodeTtl);
  }

  public ApiConfig withFirstTeamLimits(TeamLimits limits) {
    return new ApiConfig(
        host,
        port,
        dataDir,
        postgres,
        nodes,
        channels,
        adminToken,
        tokenSeed,
        limits,
        domain,
        envdVersion,
        maxBodyBytes,
        nodeCheckInterval,
        evictorInterval,
        nodeTtl);
  }

  public ApiConfig withPostgres(@Nullable Postgres database) {
    return new ApiConfig(
        host,
        port,
        dataDir,
        database,
        nodes,
        channels,
        adminToken,
        tokenSeed,
        firstTeamLimits,
        domain,
        envdVersion,
        maxBodyBytes,
        nodeCheckInterval,
        evictorInterval,
        nodeTtl);
  }

  public ApiConfig withIntervals(Duration nodeCheck, Duration evictor) {
    return new ApiConfig(
        host,
        port,
        dataDir,
        postgres,
        nodes,
        channels,
        adminToken,
        tokenSeed,
        firstTeamLimits,
        domain,
        envdVersion,
        maxBodyBytes,
        nodeCheck,
        evictor,
        nodeTtl);
  }

  /** How long a registered node may go without registering again before it is dropped. */
  public ApiConfig withNodeTtl(Duration ttl) {
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("node TTL must be positive: " + ttl);
    }
    return new ApiConfig(
        host,
        port,
        dataDir,
        postgres,
        nodes,
        channels,
        adminToken,
        tokenSeed,
        firstTeamLimits,
        domain,
        envdVersion,
        maxBodyBytes,
        nodeCheckInterval,
        evictorInterval,
        ttl);
  }
}
