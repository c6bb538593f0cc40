package dev.sbx.api.sandbox;

import dev.sbx.api.node.Node;
import dev.sbx.api.node.NodeRegistry;
import dev.sbx.api.store.SandboxRecord;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * envd's own recent log, read from its {@code GET /_sbx/logs} (an in-memory ring of its newest
 * records, see envd's {@code LogRing}) through the node proxy of the sandbox's node, the way {@link
 * SandboxMetrics} reads {@code /metrics}, with the sandbox's access token (envd asks for it, when
 * the sandbox has one, like on every route but {@code /health}).
 */
public final class EnvdLog {
  /** The path on envd. */
  public static final String PATH = "/_sbx/logs";

  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  /** One record of envd's log. */
  public record Line(Instant timestamp, String level, String logger, String message) {}

  /** What was read: the lines, or why there are none. */
  public record Result(List<Line> lines, String failure) {
    static Result failed(String why) {
      return new Result(List.of(), why);
    }

    public boolean ok() {
      return failure.isEmpty();
    }
  }

  private final NodeRegistry nodes;
  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(TIMEOUT).build();

  public EnvdLog(NodeRegistry nodes) {
    this.nodes = nodes;
  }

  /** Blocks; never throws for a sandbox or node that cannot answer: see {@link Result#failure}. */
  public Result read(SandboxRecord sandbox) {
    Node node = nodes.node(sandbox.nodeId()).orElse(null);
    if (node == null) {
      return Result.failed("the sandbox's node is unknown");
    }
    String host = node.address().proxyHost();
    if (host.contains(":") && !host.startsWith("[")) {
      host = "[" + host + "]";
    }
    HttpRequest.Builder request =
        HttpRequest.newBuilder(
                URI.create("http://" + host + ":" + node.address().proxyPort() + PATH))
            .timeout(TIMEOUT)
            .header("E2b-Sandbox-Id", sandbox.id())
            .header("E2b-Sandbox-Port", "49983")
            .GET();
    if (sandbox.envdAccessToken() != null) {
      request.header("X-Access-Token", sandbox.envdAccessToken());
    }
    HttpResponse<String> response;
    try {
      response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      return Result.failed(String.valueOf(e.getMessage()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Result.failed("interrupted");
    }
    if (response.statusCode() != 200) {
      return Result.failed("envd answered " + response.statusCode());
    }
    try {
      JsonArray logs = new JsonObject(response.body()).getJsonArray("logs");
      if (logs == null) {
        return Result.failed("envd's answer has no logs");
      }
      List<Line> lines = new ArrayList<>(logs.size());
      for (Object o : logs) {
        if (o instanceof JsonObject line) {
          lines.add(
              new Line(
                  Instant.parse(line.getString("timestamp", "")),
                  level(line.getString("level", "info")),
                  line.getString("logger", ""),
                  line.getString("message", "")));
        }
      }
      return new Result(lines, "");
    } catch (DecodeException | ClassCastException | DateTimeParseException e) {
      return Result.failed("envd's answer is malformed");
    }
  }

  private static String level(String level) {
    return switch (level) {
      case "debug", "info", "warn", "error" -> level;
      default -> "info";
    };
  }
}
