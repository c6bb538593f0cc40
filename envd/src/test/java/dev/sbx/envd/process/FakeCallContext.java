package dev.sbx.envd.process;

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

/** A call's context as a test sets it: headers and an optional {@code Connect-Timeout-Ms}. */
final class FakeCallContext implements CallContext {
  private final Map<String, String> headers = new HashMap<>();
  private @Nullable Duration timeout;

  static FakeCallContext create() {
    return new FakeCallContext();
  }

  FakeCallContext header(String name, String value) {
    headers.put(name.toLowerCase(Locale.ROOT), value);
    return this;
  }

  /** {@code Authorization: Basic base64("<user>:")}, as the E2B SDK sends it. */
  FakeCallContext user(String username) {
    return header(
        "Authorization",
        "Basic "
            + Base64.getEncoder()
                .encodeToString((username + ":").getBytes(StandardCharsets.UTF_8)));
  }

  FakeCallContext timeout(Duration value) {
    this.timeout = value;
    return this;
  }

  @Override
  public String procedure() {
    return "process.Process/Test";
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
