package dev.sbx.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** envd started from its packaged directory on a free loopback port, as a process of its own. */
final class EnvdProcess implements AutoCloseable {
  private final Process process;
  private final URI baseUri;
  private final long startedNanos;

  private EnvdProcess(Process process, URI baseUri, long startedNanos) {
    this.process = process;
    this.baseUri = baseUri;
    this.startedNanos = startedNanos;
  }

  /** Starts {@code <dist>/bin/envd} with extra environment variables; does not wait for it. */
  static EnvdProcess start(Path dist, Map<String, String> env) {
    int port = freePort();
    ProcessBuilder builder =
        new ProcessBuilder(dist.resolve("bin/envd").toString())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD);
    builder.environment().put("ENVD_PORT", Integer.toString(port));
    builder.environment().put("ENVD_HOST", "127.0.0.1");
    builder.environment().putAll(env);
    long started = System.nanoTime();
    try {
      return new EnvdProcess(builder.start(), URI.create("http://127.0.0.1:" + port), started);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Polls {@code /health} every millisecond; returns the nanoseconds from start to the first 204.
   */
  long awaitHealthy(HttpClient http, Duration limit) throws InterruptedException {
    HttpRequest health = HttpRequest.newBuilder(baseUri.resolve("/health")).build();
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("envd exited with " + process.exitValue());
      }
      try {
        if (http.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 204) {
          return System.nanoTime() - startedNanos;
        }
      } catch (IOException notYetListening) {
        // the port opens when envd is up
      }
      Thread.sleep(1);
    }
    throw new IllegalStateException("envd did not answer /health within " + limit);
  }

  URI baseUri() {
    return baseUri;
  }

  ProcessHandle handle() {
    return process.toHandle();
  }

  @Override
  public void close() throws InterruptedException {
    process.descendants().forEach(ProcessHandle::destroy);
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly().waitFor();
    }
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
