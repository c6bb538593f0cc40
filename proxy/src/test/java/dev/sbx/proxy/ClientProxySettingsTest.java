package dev.sbx.proxy;

import static dev.sbx.proxy.ProxyTestSupport.await;
import static dev.sbx.proxy.ProxyTestSupport.options;
import static dev.sbx.proxy.ProxyTestSupport.send;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sbx.proxy.catalog.CatalogEntry;
import dev.sbx.proxy.catalog.InMemoryCatalog;
import dev.sbx.proxy.forward.ForwardingSettings;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The client proxy's settings reach its forwarding engine. */
class ClientProxySettingsTest {

  @Test
  void defaultsHaveNoPerSandboxLimitAndTheLimitReachesTheEngine() {
    ClientProxySettings defaults = ClientProxySettings.defaults("127.0.0.1", 0, 0);
    assertThat(defaults.maxConnectionsPerSandbox()).isEqualTo(ForwardingSettings.UNLIMITED);
    assertThat(defaults.forwarding().maxConnectionsPerSandbox())
        .isEqualTo(ForwardingSettings.UNLIMITED);

    ForwardingSettings engine = defaults.withMaxConnectionsPerSandbox(7).forwarding();
    assertThat(engine.maxConnectionsPerSandbox()).isEqualTo(7);
    assertThat(engine.forwardedHeaders()).isTrue();
    assertThat(engine.dialAttempts()).isEqualTo(1);
    assertThat(engine.maxConnectionsPerUpstream()).isEqualTo(defaults.maxConnectionsPerNode());
  }

  @Test
  void limitIsMinusOneOrPositive() {
    ClientProxySettings defaults = ClientProxySettings.defaults("127.0.0.1", 0, 0);
    assertThatThrownBy(() -> defaults.withMaxConnectionsPerSandbox(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxConnectionsPerSandbox");
    assertThatThrownBy(() -> defaults.withMaxConnectionsPerSandbox(-5))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aRunningClientProxyRefusesPastItsLimitWith429() throws Exception {
    Vertx vertx = Vertx.vertx();
    List<HttpServerRequest> held = new CopyOnWriteArrayList<>();
    InMemoryCatalog catalog = new InMemoryCatalog();
    try {
      // stands in for the node proxy: holds /hold, answers the rest
      HttpServer node =
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
      catalog.put(
          new CatalogEntry(
              "limited1",
              "n1",
              "127.0.0.1",
              node.actualPort(),
              null,
              CatalogEntry.RouteState.RUNNING));
      HttpClient client = vertx.createHttpClient(new PoolOptions().setHttp1MaxSize(8));
      try (ClientProxy proxy =
          ClientProxy.start(
              ClientProxySettings.defaults("127.0.0.1", 0, 0).withMaxConnectionsPerSandbox(1),
              catalog)) {
        String host = "8000-limited1.sbx.test";
        vertx.runOnContext(
            v ->
                client
                    .request(options(proxy.port(), HttpMethod.GET, host, "/hold"))
                    .compose(request -> request.send()));
        await().until(() -> held.size() == 1);

        ProxyTestSupport.Answer refused =
            send(vertx, client, options(proxy.port(), HttpMethod.GET, host, "/"), null);
        assertThat(refused.status()).isEqualTo(429);
        JsonObject body = new JsonObject(refused.body());
        assertThat(body.getInteger("code")).isEqualTo(429);
        assertThat(body.getString("sandboxId")).isEqualTo("limited1");
        assertThat(body.getInteger("connectionLimit")).isEqualTo(1);

        held.getFirst().response().end("done");
        await()
            .until(
                () ->
                    send(vertx, client, options(proxy.port(), HttpMethod.GET, host, "/"), null)
                            .status()
                        == 200);
      }
    } finally {
      catalog.close();
      await(vertx.close());
    }
  }
}
