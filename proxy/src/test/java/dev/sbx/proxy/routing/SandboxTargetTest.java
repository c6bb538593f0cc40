package dev.sbx.proxy.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SandboxTargetTest {

  @Test
  void hostGivesPortAndSandboxId() throws Exception {
    assertThat(SandboxTarget.of("49983-abc123.sbx.test", null, null))
        .isEqualTo(new SandboxTarget("abc123", 49983));
  }

  @Test
  void clientIdPartIsIgnored() throws Exception {
    assertThat(SandboxTarget.of("3000-abc-client7.sbx.test", null, null))
        .isEqualTo(new SandboxTarget("abc", 3000));
  }

  @Test
  void hostIsCaseInsensitive() throws Exception {
    assertThat(SandboxTarget.of("3000-ABC.Sbx.Test", null, null))
        .isEqualTo(new SandboxTarget("abc", 3000));
  }

  @Test
  void headersRouteOnLocalhostIpLiteralsAndTheSharedHost() throws Exception {
    SandboxTarget expected = new SandboxTarget("abc", 49983);
    assertThat(SandboxTarget.of("localhost", "abc", "49983")).isEqualTo(expected);
    assertThat(SandboxTarget.of("127.0.0.1", "abc", "49983")).isEqualTo(expected);
    assertThat(SandboxTarget.of("[::1]", "abc", "49983")).isEqualTo(expected);
    assertThat(SandboxTarget.of("sandbox.sbx.test", "abc", "49983")).isEqualTo(expected);
  }

  @Test
  void headersAreIgnoredOnPerSandboxHosts() throws Exception {
    assertThat(SandboxTarget.of("3000-abc.sbx.test", "other", "49983"))
        .isEqualTo(new SandboxTarget("abc", 3000));
  }

  @Test
  void oneHeaderWithoutTheOtherIsMissingHeader() {
    assertThatThrownBy(() -> SandboxTarget.of("localhost", "abc", null))
        .hasMessage("missing header");
    assertThatThrownBy(() -> SandboxTarget.of("127.0.0.1", null, "49983"))
        .hasMessage("missing header");
  }

  @Test
  void nonNumericOrOutOfRangePortIsInvalid() {
    assertThatThrownBy(() -> SandboxTarget.of("localhost", "abc", "http"))
        .hasMessage("Invalid sandbox port");
    assertThatThrownBy(() -> SandboxTarget.of("x-abc.sbx.test", null, null))
        .hasMessage("Invalid sandbox port");
    assertThatThrownBy(() -> SandboxTarget.of("70000-abc.sbx.test", null, null))
        .hasMessage("Invalid sandbox port");
    assertThatThrownBy(() -> SandboxTarget.of("0-abc.sbx.test", null, null))
        .hasMessage("Invalid sandbox port");
    assertThatThrownBy(() -> SandboxTarget.of("-1-abc.sbx.test", null, null))
        .hasMessage("Invalid sandbox port");
  }

  @Test
  void hostWithoutDotOrDashIsInvalid() {
    assertThatThrownBy(() -> SandboxTarget.of("localhost", null, null)).hasMessage("Invalid host");
    assertThatThrownBy(() -> SandboxTarget.of("3000-abc", null, null)).hasMessage("Invalid host");
    assertThatThrownBy(() -> SandboxTarget.of(null, null, null)).hasMessage("Invalid host");
    assertThatThrownBy(() -> SandboxTarget.of("www.sbx.test", null, null))
        .hasMessage("Invalid host");
  }

  @Test
  void sandboxIdMustBeLowercaseAlphanumeric() {
    assertThatThrownBy(() -> SandboxTarget.of("localhost", "ab_c", "3000"))
        .hasMessage("Invalid sandbox ID");
    assertThatThrownBy(() -> SandboxTarget.of("localhost", "ABC", "3000"))
        .hasMessage("Invalid sandbox ID");
    assertThatThrownBy(() -> SandboxTarget.of("3000-.sbx.test", null, null))
        .hasMessage("Invalid sandbox ID");
  }
}
