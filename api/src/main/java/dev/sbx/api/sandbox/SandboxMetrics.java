package dev.sbx.api.sandbox;

import dev.sbx.api.http.ApiException;
import dev.sbx.api.node.Node;
import dev.sbx.api.node.NodeRegistry;
import dev.sbx.api.store.SandboxRecord;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;

/**
 * A sandbox's CPU, memory and disk, read from envd's {@code GET /metrics} (cgroup numbers) through
 * the node proxy of its node, and turned into E2B's {@code SandboxMetric}. One sample, taken now:
 * sbx keeps no history of metrics yet.
 */
public final class SandboxMetrics {
  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  private final NodeRegistry nodes;
  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(TIMEOUT).build();

  public SandboxMetrics(NodeRegistry nodes) {
    this.nodes = nodes;
  }

  /** Blocks. */
  public JsonObject read(SandboxRecord sandbox) {
    Node node =
        nodes.node(sandbox.nodeId()).orElseThrow(() -> SandboxLifecycle.notFound(sandbox.id()));
    String host = node.address().proxyHost();
    if (host.contains(":") && !host.startsWith("[")) {
      host = "[" + host + "]";
    }
    HttpRequest.Builder request =
        HttpRequest.newBuilder(
                URI.create("http://" + host + ":" + node.address().proxyPort() + "/metrics"))
            .timeout(TIMEOUT)
            .header("E2b-Sandbox-Id", sandbox.id())
            .header("E2b-Sandbox-Port", "49983")
            .GET();
    if (sandbox.envdAccessToken() != null) {
      request.header("X-Access-Token", sandbox.envdAccessToken());
    }
    if (sandbox.trafficAccessToken() != null) {
      request.header("E2b-Traffic-Access-Token", sandbox.trafficAccessToken());
    }
    HttpResponse<String> response;
    try {
      response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new ApiException(502, "Reading the sandbox's metrics failed: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiException(502, "Reading the sandbox's metrics was interrupted");
    }
    if (response.statusCode() != 200) {
      throw new ApiException(
          502, "Reading the sandbox's metrics failed: envd answered " + response.statusCode());
    }
    JsonObject envd;
    try {
      envd = new JsonObject(response.body());
    } catch (DecodeException | ClassCastException e) {
      throw new ApiException(
          502, "Reading the sandbox's metrics failed: envd's answer is not JSON");
    }
    long ts = envd.getLong("ts", Instant.now().getEpochSecond());
    return new JsonObject()
        .put("timestamp", Instant.ofEpochSecond(ts).toString())
        .put("timestampUnix", ts)
        .put("cpuCount", envd.getInteger("cpu_count", 0))
        .put("cpuUsedPct", envd.getDouble("cpu_used_pct", 0.0))
        .put("memUsed", envd.getLong("mem_used", 0L))
        .put("memTotal", envd.getLong("mem_total", 0L))
        .put("memCache", envd.getLong("mem_cache", 0L))
        .put("diskUsed", envd.getLong("disk_used", 0L))
        .put("diskTotal", envd.getLong("disk_total", 0L));
  }
}
