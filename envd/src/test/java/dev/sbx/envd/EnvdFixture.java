package dev.sbx.envd;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A real envd on a loopback port, with its own root directory whose {@code etc/passwd} has {@code
 * root} (uid 0) and {@code user} (uid {@value #USER_UID}), both with homes below the root.
 */
public final class EnvdFixture implements AutoCloseable {
  public static final int USER_UID = 4242;

  private final Path root;
  private final Envd envd;
  private final HttpClient client;

  private EnvdFixture(Path root, Envd envd) {
    this.root = root;
    this.envd = envd;
    this.client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  }

  public static EnvdFixture start(Path dir) {
    return start(dir, null);
  }

  public static EnvdFixture start(Path dir, @Nullable RpcHandlerFactory rpc) {
    try {
      Path root = dir.toAbsolutePath();
      Files.createDirectories(root.resolve("etc"));
      Files.createDirectories(root.resolve("root"));
      Files.createDirectories(root.resolve("home/user"));
      Files.writeString(
          root.resolve("etc/passwd"),
          "root:x:0:0:root:"
              + root.resolve("root")
              + ":/bin/bash\n"
              + "user:x:"
              + USER_UID
              + ":"
              + USER_UID
              + "::"
              + root.resolve("home/user")
              + ":/bin/bash\n");
      Files.writeString(root.resolve("etc/group"), "root:x:0:\nuser:x:" + USER_UID + ":\n");
      EnvdConfig config =
          new EnvdConfig(
              new InetSocketAddress("127.0.0.1", 0), root, Map.of("E2B_SANDBOX_ID", "sbx-test"));
      return new EnvdFixture(root, Envd.start(config, rpc));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Path root() {
    return root;
  }

  public Path home(String user) {
    return user.equals("root") ? root.resolve("root") : root.resolve("home").resolve(user);
  }

  public Envd envd() {
    return envd;
  }

  public HttpClient client() {
    return client;
  }

  public URI uri(String pathAndQuery) {
    return URI.create("http://127.0.0.1:" + envd.port() + pathAndQuery);
  }

  public HttpRequest.Builder request(String pathAndQuery) {
    return HttpRequest.newBuilder(uri(pathAndQuery)).timeout(Duration.ofSeconds(60));
  }

  public HttpResponse<String> send(HttpRequest request) {
    return send(request, HttpResponse.BodyHandlers.ofString());
  }

  public HttpResponse<byte[]> sendForBytes(HttpRequest request) {
    return send(request, HttpResponse.BodyHandlers.ofByteArray());
  }

  private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> body) {
    try {
      return client.send(request, body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** POSTs {@code json} to /init (with the token header when given) and expects 204. */
  public void init(String json, @Nullable String token) {
    HttpRequest.Builder request =
        request("/init")
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json));
    if (token != null) {
      request.header("X-Access-Token", token);
    }
    HttpResponse<String> response = send(request.build());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(204);
  }

  public static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  @Override
  public void close() {
    client.close();
    envd.close();
  }
}
