package dev.sbx.proxy.routing;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class EnvdControlRoutesTest {

  @Test
  void everyControlRouteIsBlockedOnTheEnvdPort() {
    for (String path :
        new String[] {
          "/init", "/freeze", "/unfreeze", "/collapse", "/fsfreeze", "/fsthaw", "/upgrade"
        }) {
      assertThat(EnvdControlRoutes.isBlocked(49983, path)).as(path).isTrue();
    }
  }

  @Test
  void disguisedPathsAreCleanedFirst() {
    assertThat(EnvdControlRoutes.isBlocked(49983, "//init")).isTrue();
    assertThat(EnvdControlRoutes.isBlocked(49983, "/files/../init")).isTrue();
    assertThat(EnvdControlRoutes.isBlocked(49983, "/./init/")).isTrue();
    assertThat(EnvdControlRoutes.isBlocked(49983, "/../../init")).isTrue();
    assertThat(EnvdControlRoutes.isBlocked(49983, "/%69nit")).isTrue();
    assertThat(EnvdControlRoutes.isBlocked(49983, "/files/%2E%2E/init")).isTrue();
  }

  @Test
  void otherPathsAndPortsPass() {
    assertThat(EnvdControlRoutes.isBlocked(49983, "/health")).isFalse();
    assertThat(EnvdControlRoutes.isBlocked(49983, "/files")).isFalse();
    assertThat(EnvdControlRoutes.isBlocked(49983, "/init/x")).isFalse();
    assertThat(EnvdControlRoutes.isBlocked(49983, "/initx")).isFalse();
    assertThat(EnvdControlRoutes.isBlocked(3000, "/init")).isFalse();
    assertThat(EnvdControlRoutes.isBlocked(49983, "/%zzinit")).isFalse();
  }

  @Test
  void cleanMatchesGoPathClean() {
    assertThat(EnvdControlRoutes.clean("/")).isEqualTo("/");
    assertThat(EnvdControlRoutes.clean("")).isEqualTo("/");
    assertThat(EnvdControlRoutes.clean("/a//b/./c/..")).isEqualTo("/a/b");
    assertThat(EnvdControlRoutes.clean("/a/b/")).isEqualTo("/a/b");
  }
}
