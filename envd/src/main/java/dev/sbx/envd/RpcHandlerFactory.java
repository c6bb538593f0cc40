package dev.sbx.envd;

import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;

/**
 * Builds the handler of envd's Connect RPC paths ({@code /process.Process/*}, {@code
 * /filesystem.Filesystem/*}) once envd's shared state exists; the handler sits behind envd's CORS
 * and access-token checks. If it is {@link AutoCloseable}, {@link Envd#close()} closes it.
 */
@FunctionalInterface
public interface RpcHandlerFactory {
  HttpHandler create(EnvdContext context) throws IOException;
}
