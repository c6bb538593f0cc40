package dev.sbx.envd;

import com.sun.net.httpserver.HttpServer;
import dev.sbx.envd.user.UserDirectory;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** envd: starts the HTTP server with every route and service, one virtual thread per exchange. */
public final class Envd implements AutoCloseable {
  private static final Logger LOG = System.getLogger(Envd.class.getName());

  private final HttpServer server;
  private final ExecutorService executor;

  private Envd(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  public static Envd start(EnvdConfig config) throws IOException {
    SandboxSettings settings = new SandboxSettings(config.baseEnv());
    UserDirectory users = new UserDirectory(config.root());
    HttpServer server = HttpServer.create(config.address(), 1024);
    ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    server.setExecutor(executor);
    server.createContext(
        "/health",
        exchange -> {
          exchange.getResponseHeaders().set("Cache-Control", "no-store");
          exchange.sendResponseHeaders(204, -1);
          exchange.close();
        });
    LOG.log(Level.DEBUG, "users from {0}, settings {1}", users, settings);
    server.start();
    LOG.log(Level.INFO, "envd {0} listening on {1}", EnvdConfig.VERSION, server.getAddress());
    return new Envd(server, executor);
  }

  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  public static void main(String[] args) throws IOException {
    Envd envd = start(EnvdConfig.fromEnvironment(System.getenv()));
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(envd::close));
  }
}
