package dev.sbx.envd;

import static java.util.Objects.requireNonNull;

import dev.sbx.connect.CallContext;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A call's context as a test sets it up: request headers (names case-insensitive) and an optional
 * {@code Connect-Timeout-Ms}; {@link #create()} is a call with neither, i.e. as the default user.
 */
public final class FakeCallContext implements CallContext {
  private final Map<String, String> headers = new HashMap<>();
  private @Nullable Duration timeout;

  private FakeCallContext() {}

  public static FakeCallContext create() {
    return new FakeCallContext();
  }

  /** Sets request header {@code name}. */
  public FakeCallContext header(String name, String value) {
    requireNonNull(name, "name");
    requireNonNull(value, "value");
    headers.put(name.toLowerCase(Locale.ROOT), value);
    return this;
  }

  /** Names {@code username} in Basic auth ({@link #basic(String)}), as the E2B SDK does. */
  public FakeCallContext user(String username) {
    return header("Authorization", basic(username));
  }

  /** The call's deadline, as a {@code Connect-Timeout-Ms} header gives it. */
  public FakeCallContext timeout(Duration value) {
    this.timeout = requireNonNull(value, "value");
    return this;
  }

  /** {@code Basic base64("<username>:")}: the Authorization value the E2B SDK sends. */
  public static String basic(String username) {
    requireNonNull(username, "username");
    return "Basic "
        + Base64.getEncoder().encodeToString((username + ":").getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public String procedure() {
    return "test.Test/Call";
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
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), 40000);
  }

  @Override
  public void addResponseHeader(String name, String value) {}
}
