package dev.sbx.sdk;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * A scripted HTTP server for the API tests: records every request and answers with the next queued
 * response (404 {@code {"code":404,"message":"no response queued"}} when none is left).
 */
final class FakeApi implements AutoCloseable {
  record Request(String method, String pathAndQuery, Headers headers, byte[] bytes) {
    String body() {
      return new String(bytes, StandardCharsets.UTF_8);
    }

    String header(String name) {
      String value = headers.getFirst(name);
      return value == null ? "<absent>" : value;
    }
  }

  record Reply(int status, Map<String, String> headers, byte[] body) {}

  private final HttpServer server;
  private final List<Request> requests = new ArrayList<>();
  private final Deque<Reply> replies = new ArrayDeque<>();

  FakeApi() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        exchange -> {
          byte[] body = exchange.getRequestBody().readAllBytes();
          Reply reply;
          synchronized (this) {
            requests.add(
                new Request(
                    exchange.getRequestMethod(),
                    exchange.getRequestURI().getRawPath()
                        + (exchange.getRequestURI().getRawQuery() == null
                            ? ""
                            : "?" + exchange.getRequestURI().getRawQuery()),
                    exchange.getRequestHeaders(),
                    body));
            reply = replies.poll();
          }
          if (reply == null) {
            reply =
                new Reply(
                    404,
                    Map.of(),
                    "{\"code\":404,\"message\":\"no response queued\"}"
                        .getBytes(StandardCharsets.UTF_8));
          }
          reply.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
          byte[] out = reply.body();
          if (out.length > 0 && !reply.headers().containsKey("Content-Type")) {
            exchange.getResponseHeaders().add("Content-Type", "application/json");
          }
          exchange.sendResponseHeaders(reply.status(), out.length == 0 ? -1 : out.length);
          try (OutputStream o = exchange.getResponseBody()) {
            o.write(out);
          }
        });
    server.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  synchronized FakeApi reply(int status, String body) {
    return reply(status, Map.of(), body);
  }

  synchronized FakeApi reply(int status, Map<String, String> headers, String body) {
    return reply(status, headers, body.getBytes(StandardCharsets.UTF_8));
  }

  synchronized FakeApi reply(int status, Map<String, String> headers, byte[] body) {
    replies.add(new Reply(status, headers, body));
    return this;
  }

  synchronized List<Request> requests() {
    return List.copyOf(requests);
  }

  synchronized Request only() {
    if (requests.size() != 1) {
      throw new AssertionError("expected one request, got " + requests);
    }
    return requests.get(0);
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
