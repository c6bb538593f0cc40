package dev.sbx.orchestrator.network;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class EgressRulesTest {

  private final NetworkConfig config = NetworkConfig.defaults();
  private final EgressRules rules = new EgressRules(config);
  private final NetworkSlot slot = config.slot(7);

  @Test
  void allowedComeBeforeDeniedBeforeTheInternetDefault() {
    String script =
        rules.applyPolicy(
            slot,
            new EgressPolicy(
                true,
                List.of(Ipv4Cidr.parse("1.2.3.0/24")),
                List.of(Ipv4Cidr.parse("1.2.0.0/16"))));
    List<String> lines = script.lines().toList();
    assertThat(lines)
        .containsSubsequence(
            "flush chain inet sbx egress_7",
            "add rule inet sbx egress_7 ip daddr 1.2.3.0/24 accept",
            "add rule inet sbx egress_7 ip daddr 1.2.0.0/16 counter name denied drop",
            "add rule inet sbx egress_7 accept",
            "add element inet sbx nat_sources { 10.231.0.7 }");
    assertThat(script).doesNotContain("delete element");
  }

  @Test
  void noEgressMeansDropAndNoNat() {
    List<String> lines = rules.applyPolicy(slot, EgressPolicy.NONE).lines().toList();
    assertThat(lines)
        .containsExactly(
            "flush chain inet sbx egress_7",
            "add rule inet sbx egress_7 counter name denied drop",
            "add element inet sbx nat_sources { 10.231.0.7 }",
            "delete element inet sbx nat_sources { 10.231.0.7 }");
  }

  @Test
  void removingASlotDropsTheMapElementBeforeItsChain() {
    List<String> lines = rules.removeSlot(slot).lines().toList();
    assertThat(lines)
        .containsSubsequence(
            "delete element inet sbx egress { 10.231.0.7 }",
            "delete chain inet sbx egress_7",
            "delete element bridge sbx slots { \"sbxv7\" . 10.231.0.7 }",
            "delete element bridge sbx ports { \"sbxv7\" }");
  }
}
