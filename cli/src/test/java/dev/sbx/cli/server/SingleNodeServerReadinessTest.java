package dev.sbx.cli.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@link SingleNodeServer#awaitSeen}: the server's start waits for the API to have seen its node,
 * checking again until it has or the time is up.
 */
class SingleNodeServerReadinessTest {
  @Test
  void checksAgainUntilTheNodeIsSeen() {
    AtomicInteger checks = new AtomicInteger();
    SingleNodeServer.awaitSeen(
        () -> checks.get() >= 3,
        checks::incrementAndGet,
        Duration.ofMinutes(1),
        Duration.ofMillis(1));
    assertThat(checks).hasValue(3);
  }

  @Test
  void aNodeSeenAtOnceNeedsNoFurtherCheck() {
    AtomicInteger checks = new AtomicInteger();
    SingleNodeServer.awaitSeen(
        () -> true, checks::incrementAndGet, Duration.ofMinutes(1), Duration.ofMillis(1));
    assertThat(checks).hasValue(0);
  }

  @Test
  void aNodeNeverSeenFailsTheStartAfterTheTimeout() {
    AtomicInteger checks = new AtomicInteger();
    assertThatThrownBy(
            () ->
                SingleNodeServer.awaitSeen(
                    () -> false,
                    checks::incrementAndGet,
                    Duration.ofMillis(50),
                    Duration.ofMillis(5)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("did not reach the node");
    assertThat(checks.get()).isPositive();
  }
}
