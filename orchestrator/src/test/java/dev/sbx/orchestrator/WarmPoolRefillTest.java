package dev.sbx.orchestrator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sbx.orchestrator.lifecycle.WarmPoolSettings;
import dev.sbx.orchestrator.network.Ipv4Cidr;
import dev.sbx.orchestrator.network.NetworkConfig;
import dev.sbx.proto.orchestrator.CreateSandboxRequest;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * When a claimed warm sandbox is replaced, for real (root, runc, nftables, envd's dist): template
 * {@code busybox} keeps two, replaced {@link #REFILL_DELAY} after a claim that leaves one waiting
 * and at once after a claim that empties the pool. Layout {@code sbxw} / bridge {@code sbxw0} /
 * {@code 10.244.0.0/28}, containers {@code sbxw-…}, cgroups below {@code /sbxw}; nothing may be
 * left after the class.
 */
class WarmPoolRefillTest {
  static final NetworkConfig NETWORK =
      new NetworkConfig("sbxw", "sbxw0", Ipv4Cidr.parse("10.244.0.0/28"), 0);
  static final Duration WITHIN = Duration.ofSeconds(60);
  static final Duration REFILL_DELAY = Duration.ofSeconds(8);
  static final AtomicInteger IDS = new AtomicInteger();

  static RuncTestNode node;

  @BeforeAll
  static void startOrchestrator() throws Exception {
    node =
        RuncTestNode.start(
            NETWORK,
            List.of("busybox"),
            4,
            WITHIN,
            new WarmPoolSettings(0, Map.of("busybox", 2)).withRefillDelay(REFILL_DELAY));
  }

  @AfterAll
  static void stopOrchestrator() throws Exception {
    if (node != null) {
      assertThat(node.stop()).as("left on the host after the orchestrator stopped").isEmpty();
    }
  }

  @Test
  void aClaimThatLeavesOneWaitingIsReplacedLaterOneThatEmptiesThePoolAtOnce() throws Exception {
    await("two warm sandboxes", () -> node.warmWaiting("busybox") == 2);
    Set<String> started = new HashSet<>(node.warmContainers());
    assertThat(started).hasSize(2);

    long firstClaim = System.nanoTime();
    String first = claim();
    assertThat(node.warmWaiting("busybox")).isEqualTo(1);
    // a refill would have made its container by now (runc create takes well under a second)
    Thread.sleep(2_000);
    assertThat(node.warmContainers())
        .as("no replacement while the claimed sandbox's first commands run")
        .isEqualTo(started);

    String second = claim();
    assertThat(node.warmWaiting("busybox")).isZero();
    await("a replacement started", () -> !started.containsAll(node.warmContainers()));
    assertThat(Duration.ofNanos(System.nanoTime() - firstClaim))
        .as("the claim that emptied the pool started the refill, not the first claim's delay")
        .isLessThan(REFILL_DELAY);

    await("the pool full again", () -> node.warmWaiting("busybox") == 2);
    assertThat(node.warmContainers()).hasSize(4).containsAll(started);
    for (String id : List.of(first, second)) {
      node.orchestrator.lifecycle().delete(id);
    }
  }

  /** Creates a busybox sandbox, which claims a warm one; returns its id. */
  static String claim() {
    String id = "w" + ProcessHandle.current().pid() + "x" + IDS.incrementAndGet();
    node.sandboxes.create(
        CreateSandboxRequest.newBuilder().setSandboxId(id).setTemplateId("busybox").build());
    assertThat(node.orchestrator.lifecycle().get(id).orElseThrow().containerId())
        .as("claimed from the pool")
        .startsWith("warm");
    return id;
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + WITHIN.toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime() - deadline).as("%s within %s", what, WITHIN).isNegative();
      Thread.sleep(20);
    }
  }
}
