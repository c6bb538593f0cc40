package dev.sbx.proxy;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.streams.WriteStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/** Client helpers shared by the proxy tests (loopback only). */
final class ProxyTestSupport {

  private ProxyTestSupport() {}

  record Answer(int status, MultiMap headers, String body) {}

  static RequestOptions options(int port, HttpMethod method, String host, String uri) {
    return new RequestOptions()
        .setServer(SocketAddress.inetSocketAddress(port, "127.0.0.1"))
        .setMethod(method)
        .setURI(uri)
        .setHost(host)
        .setPort(port);
  }

  static Answer send(Vertx vertx, HttpClient client, RequestOptions options, @Nullable String body)
      throws Exception {
    return onLoop(
        vertx,
        () ->
            client
                .request(options)
                .compose(request -> body == null ? request.send() : request.send(body))
                .compose(
                    response ->
                        response
                            .body()
                            .map(
                                b ->
                                    new Answer(
                                        response.statusCode(),
                                        response.headers(),
                                        b.toString(StandardCharsets.UTF_8)))));
  }

  /**
   * Runs a chain of client calls on an event loop, so that response handlers are in place before
   * the first byte can arrive.
   */
  static <T> T onLoop(Vertx vertx, Supplier<Future<T>> work) throws Exception {
    CompletableFuture<T> result = new CompletableFuture<>();
    vertx.runOnContext(
        v ->
            work.get()
                .onComplete(
                    done -> {
                      if (done.succeeded()) {
                        result.complete(done.result());
                      } else {
                        result.completeExceptionally(done.cause());
                      }
                    }));
    return result.get(30, TimeUnit.SECONDS);
  }

  static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static final Buffer ZEROS = Buffer.buffer(new byte[64 * 1024]);

  /** Writes {@code remaining} zero bytes as fast as the write queue drains, then ends. */
  static void writeZeros(WriteStream<Buffer> stream, long remaining) {
    long left = remaining;
    while (left > 0 && !stream.writeQueueFull()) {
      int n = (int) Math.min(left, ZEROS.length());
      stream.write(n == ZEROS.length() ? ZEROS : ZEROS.slice(0, n));
      left -= n;
    }
    if (left == 0) {
      stream.drainHandler(null);
      stream.end();
      return;
    }
    long rest = left;
    stream.drainHandler(v -> writeZeros(stream, rest));
  }
}
