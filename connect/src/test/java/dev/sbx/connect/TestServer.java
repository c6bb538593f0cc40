package dev.sbx.connect;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A JDK HttpServer on a free loopback port, set up as envd sets it up: a virtual thread per
 * exchange, the Connect handler on {@code /process.Process/} and {@code /filesystem.Filesystem/},
 * plus two non-Connect routes that answer like a proxy ({@code /proxy/}: 502 text) and like envd's
 * token check ({@code /auth/}: 401 with envd's JSON error).
 */
final class TestServer implements AutoCloseable {
  final TestServices services = new TestServices();
  private final HttpServer server;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

  TestServer(int maxMessageBytes) {
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ConnectHandler handler =
        ConnectHandler.builder()
            .services(services.definitions())
            .maxMessageBytes(maxMessageBytes)
            .build();
    server.createContext("/process.Process/", handler);
    server.createContext("/filesystem.Filesystem/", handler);
    server.createContext(
        "/proxy/", exchange -> respond(exchange, 502, "text/plain", "Bad Gateway from proxy"));
    server.createContext(
        "/auth/",
        exchange ->
            respond(
                exchange,
                401,
                "application/json; charset=utf-8",
                "{\"code\":401,\"message\":\"unauthorized access\"}"));
    server.setExecutor(executor);
    server.start();
  }

  TestServer() {
    this(ConnectHandler.DEFAULT_MAX_MESSAGE_BYTES);
  }

  URI uri() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  URI uri(String path) {
    return uri().resolve(path);
  }

  private static void respond(
      com.sun.net.httpserver.HttpExchange exchange, int status, String type, String text)
      throws IOException {
    byte[] body = text.getBytes(StandardCharsets.UTF_8);
    exchange.getRequestBody().readAllBytes();
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.sendResponseHeaders(status, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
