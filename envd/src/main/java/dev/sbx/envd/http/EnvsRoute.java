package dev.sbx.envd.http;

import static java.util.Objects.requireNonNull;

import com.google.gson.JsonObject;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.sbx.envd.SandboxSettings;
import java.io.IOException;

/** {@code GET /envs}: the default environment of the sandbox's processes, as a JSON object. */
public final class EnvsRoute implements HttpHandler {
  private final SandboxSettings settings;

  public EnvsRoute(SandboxSettings settings) {
    this.settings = requireNonNull(settings, "settings");
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    JsonObject envs = new JsonObject();
    settings.current().envVars().forEach(envs::addProperty);
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    JsonResponses.send(exchange, 200, envs);
  }
}
