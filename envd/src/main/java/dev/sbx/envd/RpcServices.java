package dev.sbx.envd;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.sbx.connect.ConnectHandler;
import dev.sbx.envd.filesystem.FilesystemService;
import dev.sbx.envd.linux.ChildProcess;
import dev.sbx.envd.process.ProcessService;
import java.io.IOException;
import java.util.List;

/**
 * envd's Connect services, {@code process.Process} and {@code filesystem.Filesystem}, behind one
 * handler; closing it ends the filesystem watchers.
 */
final class RpcServices implements HttpHandler, AutoCloseable {
  private final FilesystemService filesystem;
  private final ConnectHandler handler;

  private RpcServices(FilesystemService filesystem, ConnectHandler handler) {
    this.filesystem = filesystem;
    this.handler = handler;
  }

  static RpcServices create(EnvdContext context) {
    EnvdConfig config = context.config();
    ProcessService processes =
        new ProcessService(
            context.settings(),
            context.users(),
            config.exec(),
            config.pidfd() ? ChildProcess.ExitWatch.PIDFD : ChildProcess.ExitWatch.POLL);
    FilesystemService filesystem = new FilesystemService(context.settings(), context.users());
    return new RpcServices(
        filesystem,
        ConnectHandler.create(List.of(processes.definition(), filesystem.definition())));
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    handler.handle(exchange);
  }

  @Override
  public void close() {
    filesystem.close();
  }
}
