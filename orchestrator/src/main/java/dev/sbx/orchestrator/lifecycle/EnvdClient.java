package dev.sbx.orchestrator.lifecycle;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The orchestrator's side of envd's internal routes: waits for {@code GET /health} to answer 204,
 * sends {@code POST /init}, and runs a warm sandbox's warm-up command ({@link #warmUpCommand}).
 *
 * <p>Each request is one HTTP/1.1 exchange on a socket of its own ({@code Connection: close}),
 * written and read by the calling thread: no client library, no selector or executor thread between
 * the caller and the socket. On a host whose CPUs are busy every hand-over between threads waits
 * for a time slice, and the JDK {@code HttpClient} makes several per request; a connection on the
 * sandbox's veth costs the kernel a few microseconds. The answers here are small (a status line, a
 * few headers, at most an error text), so the parsing is minimal: status code, {@code
 * Content-Length} or {@code Transfer-Encoding: chunked}, else the body up to the end of the stream.
 *
 * <p>Health polling: before envd listens, a connection is refused at once (the sandbox's interface
 * is up), so each attempt is one SYN and one RST; they are repeated every {@link #POLL_INTERVAL}.
 */
final class EnvdClient implements AutoCloseable {
  static final int ENVD_PORT = 49983;
  private static final Duration POLL_INTERVAL = Duration.ofMillis(2);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
  private static final int MAX_ANSWER_BYTES = 64 * 1024;

  /**
   * The {@code process.Process/Start} request of the warm-up command (Connect JSON): {@code true}
   * through {@code /bin/sh}, no stdin, no tag; it prints nothing and leaves nothing behind.
   */
  static final String WARM_UP_START =
      "{\"process\":{\"cmd\":\"/bin/sh\",\"args\":[\"-c\",\"true\"]},\"stdin\":false}";

  /**
   * The same through a login shell, {@code /bin/bash -l -c true}: what E2B's SDKs run every command
   * through, so that bash and the profile files it reads have been looked up in the sandbox's
   * overlay and mapped once before the user's first command.
   */
  static final String WARM_UP_LOGIN_START =
      "{\"process\":{\"cmd\":\"/bin/bash\",\"args\":[\"-l\",\"-c\",\"true\"]},"
          + "\"stdin\":false}";

  private static final int END_STREAM_FLAG = 0x02;

  /** One answer: the status code and the body as text. */
  record Answer(int status, String body) {}

  /** Returns once {@code GET /health} answers 204, polling until {@code timeout} has passed. */
  void awaitHealthy(String address, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "no answer";
    while (true) {
      try {
        int status = exchange(address, "GET", "/health", null, deadline).status();
        if (status == 204) {
          return;
        }
        last = "status " + status;
      } catch (IOException e) {
        last = e.toString();
      }
      if (System.nanoTime() - deadline >= 0) {
        throw new EnvdException(
            "envd at " + address + " not healthy within " + timeout + " (last: " + last + ")");
      }
      sleep(POLL_INTERVAL);
    }
  }

  /**
   * Sends {@code POST /init}: the environment, access token, default user and working directory,
   * and the host's time. Retried on connection errors until {@code timeout}; any status but 204
   * fails at once.
   */
  void init(
      String address,
      Map<String, String> envVars,
      @Nullable String accessToken,
      @Nullable String defaultUser,
      @Nullable String defaultWorkdir,
      Instant now,
      Duration timeout) {
    init(address, envVars, accessToken, defaultUser, defaultWorkdir, now, timeout, null);
  }

  /**
   * As above; {@code currentToken} is the token envd already has (a restored checkpoint), sent as
   * {@code X-Access-Token} so that envd accepts a new one.
   */
  void init(
      String address,
      Map<String, String> envVars,
      @Nullable String accessToken,
      @Nullable String defaultUser,
      @Nullable String defaultWorkdir,
      Instant now,
      Duration timeout,
      @Nullable String currentToken) {
    JsonObject body = new JsonObject();
    JsonObject env = new JsonObject();
    envVars.forEach(env::addProperty);
    body.add("envVars", env);
    if (accessToken != null) {
      body.addProperty("accessToken", accessToken);
    }
    if (defaultUser != null) {
      body.addProperty("defaultUser", defaultUser);
    }
    if (defaultWorkdir != null) {
      body.addProperty("defaultWorkdir", defaultWorkdir);
    }
    body.addProperty("timestamp", DateTimeFormatter.ISO_INSTANT.format(now));
    postInit(address, body.toString(), timeout, currentToken);
  }

  /**
   * An {@code /init} that changes nothing a sandbox is given (no variables, token, user or workdir;
   * only the host's time), sent to a warm sandbox when it joins its pool: envd loads and runs its
   * {@code /init} path once then, so that the claim's {@code /init} finds it ready. The claim's own
   * {@code /init} carries a later time, so it is applied in full.
   */
  void warmUp(String address, Instant now, Duration timeout) {
    JsonObject body = new JsonObject();
    body.add("envVars", new JsonObject());
    body.addProperty("timestamp", DateTimeFormatter.ISO_INSTANT.format(now));
    postInit(address, body.toString(), timeout, null);
  }

  /**
   * Runs one short command through envd's {@code process.Process/Start} (a Connect server stream,
   * {@code application/connect+json}) and reads the stream to its end message; sent to a warm
   * sandbox after {@link #warmUp}, before it joins its pool. envd then has loaded, linked and run
   * its process path (Connect framing, the user lookup, the fork of {@code envd-exec}, the output
   * pumps, the exit watch) once, so that the first command of the user who claims the sandbox does
   * not pay for it. The command runs as {@code user} (the template's default user, whom a claim
   * most likely names; null: envd's fallback, root) through a login shell when {@code loginShell}
   * ({@link #WARM_UP_LOGIN_START}, else {@link #WARM_UP_START}), reads files only and is gone when
   * the stream ends: {@code List} shows only running processes.
   *
   * @throws EnvdException if envd does not answer, answers with an error, or the command does not
   *     exit with 0 within {@code timeout}
   */
  void warmUpCommand(String address, @Nullable String user, boolean loginShell, Duration timeout) {
    try {
      runCommand(
          address,
          ENVD_PORT,
          user,
          loginShell ? WARM_UP_LOGIN_START : WARM_UP_START,
          System.nanoTime() + timeout.toNanos());
    } catch (IOException e) {
      throw new EnvdException("envd at " + address + ": warm-up command failed: " + e, e);
    }
  }

  /**
   * Sends {@code startJson} to {@code process.Process/Start} on {@code host:port} as {@code user}
   * (Basic auth with an empty password; null: none, envd's default user), reads the whole stream
   * and checks it: status 200, an {@code end} event with exit code 0, an end message without error.
   * {@code Connect-Timeout-Ms} (the process's lifetime in envd) is the time left until {@code
   * deadline}.
   */
  static void runCommand(
      String host, int port, @Nullable String user, String startJson, long deadline)
      throws IOException {
    byte[] json = startJson.getBytes(StandardCharsets.UTF_8);
    byte[] body = new byte[5 + json.length];
    body[0] = 0;
    body[1] = (byte) (json.length >>> 24);
    body[2] = (byte) (json.length >>> 16);
    body[3] = (byte) (json.length >>> 8);
    body[4] = (byte) json.length;
    System.arraycopy(json, 0, body, 5, json.length);
    long timeoutMs = Math.max(1, Duration.ofNanos(deadline - System.nanoTime()).toMillis());
    String head =
        "POST /process.Process/Start HTTP/1.1\r\nHost: "
            + host
            + ':'
            + port
            + "\r\nConnection: close\r\nContent-Type: application/connect+json"
            + "\r\nConnect-Protocol-Version: 1\r\nConnect-Timeout-Ms: "
            + timeoutMs
            + (user == null
                ? ""
                : "\r\nAuthorization: Basic "
                    + java.util.Base64.getEncoder()
                        .encodeToString((user + ":").getBytes(StandardCharsets.UTF_8)))
            + "\r\nContent-Length: "
            + body.length
            + "\r\n\r\n";
    RawAnswer answer;
    try (Socket socket = new Socket()) {
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(host, port), timeoutMillis(deadline, CONNECT_TIMEOUT));
      socket.setSoTimeout(timeoutMillis(deadline, REQUEST_TIMEOUT));
      OutputStream out = socket.getOutputStream();
      byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
      byte[] request = new byte[headBytes.length + body.length];
      System.arraycopy(headBytes, 0, request, 0, headBytes.length);
      System.arraycopy(body, 0, request, headBytes.length, body.length);
      out.write(request);
      out.flush();
      answer = readRawAnswer(new BufferedInputStream(socket.getInputStream(), 1024));
    }
    if (answer.status() != 200) {
      throw new IOException(
          "process.Process/Start answered "
              + answer.status()
              + " "
              + new String(answer.body(), StandardCharsets.UTF_8));
    }
    checkStream(answer.body());
  }

  /** Checks a Connect stream of {@code StartResponse}s (envelopes) as {@link #runCommand} says. */
  static void checkStream(byte[] stream) throws IOException {
    @Nullable Integer exitCode = null;
    int at = 0;
    while (at < stream.length) {
      if (stream.length - at < 5) {
        throw new IOException("truncated Connect envelope at byte " + at);
      }
      int flags = stream[at] & 0xff;
      int length =
          ((stream[at + 1] & 0xff) << 24)
              | ((stream[at + 2] & 0xff) << 16)
              | ((stream[at + 3] & 0xff) << 8)
              | (stream[at + 4] & 0xff);
      if (length < 0 || length > stream.length - at - 5) {
        throw new IOException("truncated Connect envelope at byte " + at);
      }
      String text = new String(stream, at + 5, length, StandardCharsets.UTF_8);
      at += 5 + length;
      JsonObject message = parseObject(text);
      if ((flags & END_STREAM_FLAG) != 0) {
        if (message.has("error")) {
          throw new IOException("process.Process/Start failed: " + message.get("error"));
        }
        if (at != stream.length) {
          throw new IOException("data after the Connect end message");
        }
        if (exitCode == null) {
          throw new IOException("the stream ended without the process's end event");
        }
        if (exitCode != 0) {
          throw new IOException("the command exited with " + exitCode);
        }
        return;
      }
      JsonElement end =
          message.has("event") && message.get("event").isJsonObject()
              ? message.getAsJsonObject("event").get("end")
              : null;
      if (end != null && end.isJsonObject()) {
        JsonElement code = end.getAsJsonObject().get("exitCode");
        exitCode = code == null ? 0 : code.getAsInt(); // proto3 JSON leaves out a 0
      }
    }
    throw new IOException("the stream ended without a Connect end message");
  }

  private static JsonObject parseObject(String text) throws IOException {
    try {
      JsonElement element = JsonParser.parseString(text);
      if (!element.isJsonObject()) {
        throw new IOException("a Connect message that is no JSON object: " + text);
      }
      return element.getAsJsonObject();
    } catch (JsonParseException | IllegalStateException | NumberFormatException e) {
      throw new IOException("a Connect message that is no valid JSON: " + text, e);
    }
  }

  private void postInit(
      String address, String body, Duration timeout, @Nullable String currentToken) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        Answer answer = exchange(address, "POST", "/init", body, deadline, currentToken);
        if (answer.status() == 204) {
          return;
        }
        throw new EnvdException(
            "envd at " + address + " refused /init: " + answer.status() + " " + answer.body());
      } catch (IOException e) {
        if (System.nanoTime() - deadline >= 0) {
          throw new EnvdException("envd at " + address + ": /init failed: " + e, e);
        }
      }
      sleep(POLL_INTERVAL);
    }
  }

  /** One request on a new connection; no part of it outlives {@code deadline} (nanoTime). */
  static Answer exchange(
      String address, String method, String path, @Nullable String jsonBody, long deadline)
      throws IOException {
    return exchange(address, method, path, jsonBody, deadline, null);
  }

  /** As above, with {@code accessToken} sent as {@code X-Access-Token} when given. */
  static Answer exchange(
      String address,
      String method,
      String path,
      @Nullable String jsonBody,
      long deadline,
      @Nullable String accessToken)
      throws IOException {
    byte[] body = jsonBody == null ? new byte[0] : jsonBody.getBytes(StandardCharsets.UTF_8);
    StringBuilder head =
        new StringBuilder(method)
            .append(' ')
            .append(path)
            .append(" HTTP/1.1\r\nHost: ")
            .append(address)
            .append(':')
            .append(ENVD_PORT)
            .append("\r\nConnection: close\r\n");
    if (accessToken != null) {
      head.append("X-Access-Token: ").append(accessToken).append("\r\n");
    }
    if (jsonBody != null) {
      head.append("Content-Type: application/json\r\nContent-Length: ")
          .append(body.length)
          .append("\r\n");
    }
    head.append("\r\n");
    try (Socket socket = new Socket()) {
      socket.setTcpNoDelay(true);
      socket.connect(
          new InetSocketAddress(address, ENVD_PORT), timeoutMillis(deadline, CONNECT_TIMEOUT));
      socket.setSoTimeout(timeoutMillis(deadline, REQUEST_TIMEOUT));
      OutputStream out = socket.getOutputStream();
      byte[] headBytes = head.toString().getBytes(StandardCharsets.US_ASCII);
      byte[] request = new byte[headBytes.length + body.length];
      System.arraycopy(headBytes, 0, request, 0, headBytes.length);
      System.arraycopy(body, 0, request, headBytes.length, body.length);
      out.write(request);
      out.flush();
      return readAnswer(new BufferedInputStream(socket.getInputStream(), 1024));
    }
  }

  /** Reads a status line, headers and the body (by length, chunked, or to the end). */
  static Answer readAnswer(InputStream in) throws IOException {
    RawAnswer raw = readRawAnswer(in);
    return new Answer(raw.status(), new String(raw.body(), StandardCharsets.UTF_8));
  }

  /** An answer with its body as bytes. */
  private record RawAnswer(int status, byte[] body) {}

  private static RawAnswer readRawAnswer(InputStream in) throws IOException {
    String statusLine = readLine(in);
    String[] parts = statusLine.split(" ", 3);
    if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
      throw new IOException("not an HTTP answer: " + statusLine);
    }
    int status;
    try {
      status = Integer.parseInt(parts[1]);
    } catch (NumberFormatException e) {
      throw new IOException("not an HTTP status: " + statusLine, e);
    }
    long length = -1;
    boolean chunked = false;
    for (String line = readLine(in); !line.isEmpty(); line = readLine(in)) {
      int colon = line.indexOf(':');
      if (colon < 0) {
        continue;
      }
      String name = line.substring(0, colon).strip().toLowerCase(Locale.ROOT);
      String value = line.substring(colon + 1).strip();
      if (name.equals("content-length")) {
        try {
          length = Long.parseLong(value);
        } catch (NumberFormatException e) {
          throw new IOException("bad Content-Length: " + value, e);
        }
      } else if (name.equals("transfer-encoding")
          && value.toLowerCase(Locale.ROOT).contains("chunked")) {
        chunked = true;
      }
    }
    if (status == 204 || status == 304 || (status >= 100 && status < 200)) {
      return new RawAnswer(status, new byte[0]);
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if (chunked) {
      while (true) {
        String sizeLine = readLine(in);
        int semicolon = sizeLine.indexOf(';');
        int size;
        try {
          size =
              Integer.parseInt(
                  (semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).strip(), 16);
        } catch (NumberFormatException e) {
          throw new IOException("bad chunk size: " + sizeLine, e);
        }
        if (size == 0) {
          break;
        }
        if (body.size() + size > MAX_ANSWER_BYTES) {
          throw new IOException("answer larger than " + MAX_ANSWER_BYTES + " bytes");
        }
        body.write(in.readNBytes(size));
        readLine(in);
      }
    } else if (length >= 0) {
      if (length > MAX_ANSWER_BYTES) {
        throw new IOException("answer larger than " + MAX_ANSWER_BYTES + " bytes");
      }
      body.write(in.readNBytes((int) length));
    } else {
      body.write(in.readNBytes(MAX_ANSWER_BYTES));
    }
    return new RawAnswer(status, body.toByteArray());
  }

  /** A line up to CRLF (or LF), without it; the end of the stream before one is an error. */
  private static String readLine(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    while (true) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("connection closed in the middle of the answer");
      }
      if (b == '\n') {
        int end = line.length();
        if (end > 0 && line.charAt(end - 1) == '\r') {
          line.setLength(end - 1);
        }
        return line.toString();
      }
      if (line.length() >= 8192) {
        throw new IOException("header line longer than 8192 bytes");
      }
      line.append((char) b);
    }
  }

  private static int timeoutMillis(long deadline, Duration cap) {
    long remaining = Duration.ofNanos(deadline - System.nanoTime()).toMillis();
    return (int) Math.clamp(remaining, 1, cap.toMillis());
  }

  private static void sleep(Duration duration) {
    try {
      Thread.sleep(duration);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EnvdException("interrupted", e);
    }
  }

  @Override
  public void close() {
    // nothing held between requests
  }
}
