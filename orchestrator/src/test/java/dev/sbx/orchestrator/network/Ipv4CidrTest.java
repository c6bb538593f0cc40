package dev.sbx.orchestrator.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class Ipv4CidrTest {

  @Test
  void parsesFormatsAndIndexes() {
    Ipv4Cidr pool = Ipv4Cidr.parse("10.231.0.0/16");
    assertThat(pool.toString()).isEqualTo("10.231.0.0/16");
    assertThat(pool.size()).isEqualTo(65536);
    assertThat(Ipv4Cidr.formatAddress(pool.addressAt(1))).isEqualTo("10.231.0.1");
    assertThat(Ipv4Cidr.formatAddress(pool.addressAt(258))).isEqualTo("10.231.1.2");
    assertThat(Ipv4Cidr.parse("169.254.169.254").toString()).isEqualTo("169.254.169.254/32");
    assertThat(Ipv4Cidr.parse("0.0.0.0/0").size()).isEqualTo(1L << 32);
    assertThat(pool.contains(Ipv4Cidr.parseAddress("10.231.255.255"))).isTrue();
    assertThat(pool.contains(Ipv4Cidr.parseAddress("10.232.0.0"))).isFalse();
  }

  @Test
  void overlapsInBothDirections() {
    Ipv4Cidr pool = Ipv4Cidr.parse("10.231.0.0/16");
    assertThat(pool.overlaps(Ipv4Cidr.parse("10.0.0.0/8"))).isTrue();
    assertThat(Ipv4Cidr.parse("10.0.0.0/8").overlaps(pool)).isTrue();
    assertThat(pool.overlaps(Ipv4Cidr.parse("10.231.7.9/32"))).isTrue();
    assertThat(pool.overlaps(Ipv4Cidr.parse("10.232.0.0/16"))).isFalse();
    assertThat(pool.overlaps(Ipv4Cidr.parse("0.0.0.0/0"))).isTrue();
  }

  @Test
  void rejectsBadInput() {
    assertThatThrownBy(() -> Ipv4Cidr.parse("10.231.0.1/16"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("host bits");
    for (String bad :
        new String[] {"10.1.2", "10.1.2.256", "a.b.c.d", "10.0.0.0/33", "1.2.3.4/x", ""}) {
      assertThatThrownBy(() -> Ipv4Cidr.parse(bad)).isInstanceOf(IllegalArgumentException.class);
    }
    assertThat(Ipv4Cidr.covering(Ipv4Cidr.parseAddress("10.231.0.1"), 16))
        .isEqualTo(Ipv4Cidr.parse("10.231.0.0/16"));
  }
}
