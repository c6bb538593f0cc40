package dev.sbx.envd.filesystem;

import dev.sbx.connect.CallContext;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/** A call with the given request headers and timeout. */
final class FakeCallContext implements CallContext {
  private final Map<String, String> headers = new TreeMap<>();
  private final @Nullable Duration timeout;
  final List<String> responseHeaders = new ArrayList<>();

  private FakeCallContext(Map<String, String> headers, @Nullable Duration timeout) {
    headers.forEach((k, v) -> this.headers.put(k.toLowerCase(Locale.ROOT), v));
    this.timeout = timeout;
  }

  static FakeCallContext anonymous() {
    return new FakeCallContext(Map.of(), null);
  }

  static FakeCallContext withHeaders(Map<String, String> headers) {
    return new FakeCallContext(headers, null);
  }

  static FakeCallContext withHeaders(Map<String, String> headers, @Nullable Duration timeout) {
    return new FakeCallContext(headers, timeout);
  }

  /** A call that names {@code user} in Basic auth, as the SDK does. */
  static FakeCallContext as(String user) {
    return withHeaders(Map.of("Authorization", basic(user)));
  }

  static String basic(String user) {
    return "Basic "
        + java.util.Base64.getEncoder()
            .encodeToString((user + ":").getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  @Override
  public String procedure() {
    return "filesystem.Filesystem/Test";
  }

  @Override
  public @Nullable String header(String name) {
    return headers.get(name.toLowerCase(Locale.ROOT));
  }

  @Override
  public List<String> headers(String name) {
    String value = header(name);
    return value == null ? List.of() : List.of(value);
  }

  @Override
  public @Nullable Duration timeout() {
    return timeout;
  }

  @Override
  public InetSocketAddress remoteAddress() {
    return new InetSocketAddress("127.0.0.1", 40000);
  }

  @Override
  public void addResponseHeader(String name, String value) {
    responseHeaders.add(name + ": " + value);
  }
}
