package dev.sbx.envd;

import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.sbx.envd.files.FileDownload;
import dev.sbx.envd.files.FileUpload;
import dev.sbx.envd.http.ConsoleLogFormat;
import dev.sbx.envd.http.EnvdRouter;
import dev.sbx.envd.http.EnvsRoute;
import dev.sbx.envd.http.HealthRoute;
import dev.sbx.envd.http.InitRoute;
import dev.sbx.envd.http.LogRing;
import dev.sbx.envd.http.LogRoute;
import dev.sbx.envd.http.MetricsRoute;
import dev.sbx.envd.http.SystemClock;
import dev.sbx.envd.http.SystemMetrics;
import dev.sbx.envd.user.RequestUsers;
import dev.sbx.envd.user.UserDirectory;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jspecify.annotations.Nullable;

/**
 * envd: starts the HTTP server with every route and service, one virtual thread per exchange. One
 * {@link EnvdRouter} serves every path: CORS, the access token, the plain routes ({@code /health},
 * {@code /envs}, {@code /metrics}, {@code /init}, {@code /files}) and, when given, the Connect RPC
 * handler.
 */
public final class Envd implements AutoCloseable {
  private static final Logger LOG = System.getLogger(Envd.class.getName());

  /** Seconds an idle keep-alive connection stays open, as E2B's envd (640 s). */
  static final String IDLE_SECONDS = "640";

  private final HttpServer server;
  private final ExecutorService executor;
  private final EnvdContext context;
  private final @Nullable HttpHandler rpc;

  private Envd(
      HttpServer server, ExecutorService executor, EnvdContext context, @Nullable HttpHandler rpc) {
    this.server = server;
    this.executor = executor;
    this.context = context;
    this.rpc = rpc;
  }

  /** envd with every route and its process and filesystem services. */
  public static Envd start(EnvdConfig config) throws IOException {
    return start(config, RpcServices::create);
  }

  /**
   * envd with the plain HTTP routes and the RPC handler that {@code rpc} builds; without one, the
   * RPC paths are 404 (for tests of the plain routes).
   */
  public static Envd start(EnvdConfig config, @Nullable RpcHandlerFactory rpc) throws IOException {
    requireNonNull(config, "config");
    noDelay();
    SandboxSettings settings = new SandboxSettings(config.baseEnv());
    RequestUsers users = new RequestUsers(new UserDirectory(config.root()), settings);
    EnvdContext context = new EnvdContext(config, settings, users);
    HttpHandler rpcHandler = rpc == null ? null : rpc.create(context);
    EnvdRouter.Builder router =
        EnvdRouter.builder(settings)
            .openRoute("GET", "/health", new HealthRoute())
            .route("GET", "/envs", new EnvsRoute(settings))
            .route("GET", "/metrics", new MetricsRoute(new SystemMetrics(config.root())))
            .route("GET", LogRoute.PATH, new LogRoute(LogRing.install()))
            .openRoute("POST", "/init", new InitRoute(settings, new SystemClock(config.setClock())))
            .openRoute("GET", "/files", new FileDownload(settings, users))
            .openRoute("POST", "/files", new FileUpload(settings, users));
    if (rpcHandler != null) {
      router.rpc(rpcHandler);
    }
    HttpServer server = HttpServer.create(config.address(), 1024);
    ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    server.setExecutor(executor);
    server.createContext("/", router.build());
    server.start();
    LOG.log(Level.INFO, "envd {0} listening on {1}", EnvdConfig.VERSION, server.getAddress());
    return new Envd(server, executor, context, rpcHandler);
  }

  /**
   * TCP_NODELAY on every accepted connection (read once, when the JDK's server first starts). The
   * JDK's HttpServer leaves Nagle's algorithm on by default: a streamed response's second small
   * write (a process's {@code end} right after its {@code start}) then waits for the client's
   * delayed ACK, 40 ms on Linux, which was most of a short command's round trip.
   */
  static void noDelay() {
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** The state this envd's routes and services share. */
  public EnvdContext context() {
    return context;
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
    if (rpc instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception e) {
        LOG.log(Level.WARNING, "closing the RPC handler failed: {0}", e.toString());
      }
    }
  }

  public static void main(String[] args) throws IOException {
    // Read once, when the first server is created: keep idle connections as long as E2B does.
    if (System.getProperty("sun.net.httpserver.idleInterval") == null) {
      System.setProperty("sun.net.httpserver.idleInterval", IDLE_SECONDS);
    }
    ConsoleLogFormat.install();
    Envd envd = start(EnvdConfig.fromEnvironment(System.getenv()));
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(envd::close));
  }
}
