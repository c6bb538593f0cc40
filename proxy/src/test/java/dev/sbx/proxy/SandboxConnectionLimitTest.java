package dev.sbx.proxy;

import static dev.sbx.proxy.ProxyTestSupport.await;
import static dev.sbx.proxy.ProxyTestSupport.options;
import static dev.sbx.proxy.ProxyTestSupport.send;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sbx.proxy.forward.ExchangeListener;
import dev.sbx.proxy.forward.ForwardingProxy;
import dev.sbx.proxy.forward.ForwardingSettings;
import dev.sbx.proxy.forward.Route;
import dev.sbx.proxy.routing.ProxyError;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The per-sandbox connection limit of the forwarding engine: 429 past it, counts released. */
@SuppressWarnings("NullAway") // fields set in start()
class SandboxConnectionLimitTest {
  private Vertx vertx;
  private HttpServer upstream;
  private ForwardingProxy proxy;
  private HttpClient client;
  private final List<HttpServerRequest> held = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    upstream =
        await(
            vertx
                .createHttpServer()
                .requestHandler(
                    request -> {
                      if ("/hold".equals(request.path())) {
                        held.add(request);
                      } else {
                        request.response().end("ok");
                      }
                    })
                .listen(0, "127.0.0.1"));
    proxy =
        ForwardingProxy.start(
            vertx,
            new ForwardingSettings(
                    "127.0.0.1",
                    0,
                    Duration.ofSeconds(60),
                    1,
                    Duration.ZERO,
                    Duration.ofSeconds(2),
                    64,
                    false,
                    null)
                .withMaxConnectionsPerSandbox(2),
            (target, request) ->
                Future.succeededFuture(
                    new Route.Upstream(
                        "127.0.0.1",
                        upstream.actualPort(),
                        ProxyError.portNotOpen(target.sandboxId(), target.port()))),
            ExchangeListener.NONE);
    client = vertx.createHttpClient(new PoolOptions().setHttp1MaxSize(16));
  }

  @AfterEach
  void stop() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    if (vertx != null) {
      await(vertx.close());
    }
  }

  private CompletableFuture<HttpClientResponse> hold(String sandbox, List<HttpClientRequest> sent) {
    CompletableFuture<HttpClientResponse> answer = new CompletableFuture<>();
    vertx.runOnContext(
        v ->
            client
                .request(
                    options(proxy.port(), HttpMethod.GET, "80-" + sandbox + ".sbx.test", "/hold"))
                .compose(
                    request -> {
                      sent.add(request);
                      return request.send();
                    })
                .onComplete(
                    done -> {
                      if (done.succeeded()) {
                        answer.complete(done.result());
                      } else {
                        answer.completeExceptionally(done.cause());
                      }
                    }));
    return answer;
  }

  private ProxyTestSupport.Answer get(String sandbox) throws Exception {
    return send(
        vertx,
        client,
        options(proxy.port(), HttpMethod.GET, "80-" + sandbox + ".sbx.test", "/"),
        null);
  }

  @Test
  void pastTheLimitASandboxGets429AndOthersAreNotAffected() throws Exception {
    List<HttpClientRequest> sent = new CopyOnWriteArrayList<>();
    CompletableFuture<HttpClientResponse> first = hold("alpha1", sent);
    CompletableFuture<HttpClientResponse> second = hold("alpha1", sent);
    await().until(() -> held.size() == 2);

    ProxyTestSupport.Answer refused = get("alpha1");
    assertThat(refused.status()).isEqualTo(429);
    JsonObject body = new JsonObject(refused.body());
    assertThat(body.getInteger("code")).isEqualTo(429);
    assertThat(body.getString("sandboxId")).isEqualTo("alpha1");
    assertThat(body.getString("message"))
        .isEqualTo("The sandbox has too many concurrent incoming connections (limit: 2)");
    assertThat(body.getInteger("connectionLimit")).isEqualTo(2);
    assertThat(get("beta1").status()).isEqualTo(200);

    // an answered exchange frees its place
    held.getFirst().response().end("done");
    // either may have arrived first
    Object answered = CompletableFuture.anyOf(first, second).get(30, TimeUnit.SECONDS);
    assertThat(((HttpClientResponse) answered).statusCode()).isEqualTo(200);
    assertThat(get("alpha1").status()).isEqualTo(200);

    // so does a client that goes away
    CompletableFuture<HttpClientResponse> third = hold("alpha1", sent);
    await().until(() -> held.size() == 3);
    assertThat(get("alpha1").status()).isEqualTo(429);
    vertx.runOnContext(v -> sent.getLast().reset());
    await().until(() -> get("alpha1").status() == 200);
    await().until(third::isCompletedExceptionally);
  }

  @Test
  void limitsAreMinusOneOrPositive() {
    ForwardingSettings settings =
        new ForwardingSettings(
            "127.0.0.1",
            0,
            Duration.ofSeconds(60),
            1,
            Duration.ZERO,
            Duration.ofSeconds(2),
            64,
            false,
            null);
    assertThat(settings.maxConnectionsPerSandbox()).isEqualTo(ForwardingSettings.UNLIMITED);
    assertThatThrownBy(() -> settings.withMaxConnectionsPerSandbox(0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> settings.withMaxConnectionsPerSandbox(-2))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
