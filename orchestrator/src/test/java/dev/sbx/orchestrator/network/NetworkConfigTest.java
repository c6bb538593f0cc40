package dev.sbx.orchestrator.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class NetworkConfigTest {

  @Test
  void slotNamesAddressAndMacDeriveFromTheIndex() {
    NetworkConfig config = NetworkConfig.defaults();
    NetworkSlot slot = config.slot(2);
    assertThat(slot.netns()).isEqualTo("sbx-2");
    assertThat(slot.netnsPath()).isEqualTo(Path.of("/run/netns/sbx-2"));
    assertThat(slot.hostVeth()).isEqualTo("sbxv2");
    assertThat(slot.ip()).isEqualTo("10.231.0.2");
    assertThat(slot.gatewayIp()).isEqualTo("10.231.0.1");
    assertThat(slot.mac()).isEqualTo("02:5b:0a:e7:00:02");
    assertThat(config.slot(300).ip()).isEqualTo("10.231.1.44");
    assertThat(config.slot(2)).isEqualTo(slot);
    assertThat(config.lastSlot()).isEqualTo(65534);
  }

  @Test
  void namePatternsDoNotMatchAnotherPrefix() {
    NetworkConfig prod = NetworkConfig.defaults();
    NetworkConfig test = new NetworkConfig("sbxt", "sbxt0", Ipv4Cidr.parse("10.232.0.0/24"), 0);
    assertThat(prod.vethPattern().matcher("sbxv12").matches()).isTrue();
    assertThat(prod.vethPattern().matcher("sbxtv12").matches()).isFalse();
    assertThat(prod.netnsPattern().matcher("sbx-12").matches()).isTrue();
    assertThat(prod.netnsPattern().matcher("sbxt-12").matches()).isFalse();
    assertThat(test.vethPattern().matcher("sbxv12").matches()).isFalse();
    assertThat(test.lastSlot()).isEqualTo(254);
  }

  @Test
  void rejectsBadLayouts() {
    Ipv4Cidr pool = Ipv4Cidr.parse("10.232.0.0/24");
    assertThatThrownBy(() -> new NetworkConfig("Sbx", "sbx0", pool, 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new NetworkConfig("sbxtoolong", "sbx0", pool, 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new NetworkConfig("sbx", "a-bridge-name-too-long", pool, 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new NetworkConfig("sbx", "sbx0", Ipv4Cidr.parse("10.0.0.0/30"), 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new NetworkConfig("sbx", "sbx0", pool, -1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> NetworkConfig.defaults().slot(1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void routeDestinationsAreParsedFromIpRouteLines() {
    assertThat(NetworkSlotPool.routeDestination("default via 192.0.2.1 dev eth0")).isNull();
    assertThat(
            NetworkSlotPool.routeDestination(
                "10.231.0.0/16 dev sbx0 proto kernel scope link src 10.231.0.1"))
        .isEqualTo(Ipv4Cidr.parse("10.231.0.0/16"));
    assertThat(
            NetworkSlotPool.routeDestination(
                "local 192.0.2.2 dev eth0 table local proto kernel scope host src 192.0.2.2"))
        .isEqualTo(Ipv4Cidr.parse("192.0.2.2/32"));
    assertThat(NetworkSlotPool.routeDestination("unreachable 10.0.0.0/8 table 5"))
        .isEqualTo(Ipv4Cidr.parse("10.0.0.0/8"));
  }
}
