package dev.sbx.proxy.routing;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProxyErrorTest {

  private static final String FIREFOX =
      "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

  @Test
  void jsonBodiesAreTheProtocolOnes() {
    assertThat(ProxyError.sandboxNotFound("abc").json())
        .isEqualTo(
            "{\"sandboxId\":\"abc\",\"message\":\"The sandbox was not found\",\"code\":502}");
    assertThat(ProxyError.portNotOpen("abc", 3000).json())
        .isEqualTo(
            "{\"sandboxId\":\"abc\",\"message\":\"The sandbox is running but port is not open\","
                + "\"port\":3000,\"code\":502}");
  }

  @Test
  void clientProxyBodiesAreTheProtocolOnes() {
    assertThat(ProxyError.transitioning("abc").json())
        .isEqualTo(
            "{\"sandboxId\":\"abc\",\"message\":\"The sandbox is still transitioning. Try again"
                + " in a moment.\",\"code\":409}");
    assertThat(ProxyError.trafficTokenMissing("abc").json())
        .isEqualTo(
            "{\"sandboxId\":\"abc\",\"message\":\"Sandbox is secured with traffic access token."
                + " Token header 'e2b-traffic-access-token' is missing\",\"code\":403}");
    assertThat(ProxyError.trafficTokenInvalid("abc").json())
        .isEqualTo(
            "{\"sandboxId\":\"abc\",\"message\":\"Sandbox is secured with traffic access token."
                + " Provided token in header 'e2b-traffic-access-token' is invalid\",\"code\":403}");
    assertThat(ProxyError.catalogUnavailable("abc").status()).isEqualTo(502);
  }

  @Test
  void browserNavigationGetsHtml() {
    assertThat(ProxyError.isBrowserNavigation(FIREFOX, "text/html,*/*;q=0.8", "navigate")).isTrue();
    assertThat(ProxyError.isBrowserNavigation(FIREFOX, null, null)).isTrue();
    assertThat(ProxyError.isBrowserNavigation(FIREFOX, "application/json", null)).isFalse();
    assertThat(ProxyError.isBrowserNavigation(FIREFOX, "*/*", "cors")).isFalse();
    assertThat(ProxyError.isBrowserNavigation("node", "text/html", null)).isFalse();
    assertThat(ProxyError.isBrowserNavigation(null, null, null)).isFalse();
  }

  @Test
  void htmlEscapes() {
    String html = new ProxyError(502, "abc", "a <b> & \"c\"", 3000).html();
    assertThat(html).contains("a &lt;b&gt; &amp; &quot;c&quot;").contains("port 3000");
    assertThat(html).doesNotContain("<b>");
  }
}
