package dev.sbx.envd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sbx.connect.ConnectCode;
import dev.sbx.connect.ConnectException;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Assertions on the Connect errors envd's services throw. */
public final class ConnectAssertions {
  private ConnectAssertions() {}

  /** {@code call} throws a {@link ConnectException} of {@code code} whose message has a part. */
  public static void assertConnectError(
      ThrowingCallable call, ConnectCode code, String messagePart) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            ConnectException.class,
            e -> {
              assertThat(e.code()).isEqualTo(code);
              assertThat(e.getMessage()).contains(messagePart);
            });
  }
}
