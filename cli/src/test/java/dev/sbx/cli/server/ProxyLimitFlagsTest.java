package dev.sbx.cli.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sbx.orchestrator.OrchestratorConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The per-sandbox connection limit flags of {@code sbx proxy} and {@code sbx up}. */
class ProxyLimitFlagsTest {

  @Test
  void proxyFlagDefaultsToUnlimitedAndTakesALimit() {
    ProxyCommand unset = new ProxyCommand();
    new CommandLine(unset).parseArgs();
    assertThat(unset.maxConnectionsPerSandbox).isEqualTo(-1);

    ProxyCommand set = new ProxyCommand();
    new CommandLine(set).parseArgs("--max-connections-per-sandbox", "250");
    assertThat(set.maxConnectionsPerSandbox).isEqualTo(250);
  }

  @Test
  // NullAway does not see the type-use @Nullable of ApiConfig.@Nullable Postgres across modules
  @SuppressWarnings("NullAway")
  void upFlagReachesTheClientProxySettings() {
    UpCommand unset = new UpCommand();
    new CommandLine(unset).parseArgs();
    assertThat(unset.proxyMaxConnectionsPerSandbox).isEqualTo(-1);

    UpCommand up = new UpCommand();
    new CommandLine(up).parseArgs("--proxy-max-connections-per-sandbox", "40");
    assertThat(up.proxyMaxConnectionsPerSandbox).isEqualTo(40);
    var settings =
        new SingleNodeServer.Settings(
            "127.0.0.1",
            0,
            0,
            0,
            Path.of("/tmp/unused"),
            null,
            "localhost",
            null,
            OrchestratorConfig.defaults(),
            up.proxyMaxConnectionsPerSandbox);
    assertThat(SingleNodeServer.clientProxySettings(settings).maxConnectionsPerSandbox())
        .isEqualTo(40);
    var withoutLimit =
        new SingleNodeServer.Settings(
            "127.0.0.1",
            0,
            0,
            0,
            Path.of("/tmp/unused"),
            null,
            "localhost",
            null,
            OrchestratorConfig.defaults());
    assertThat(SingleNodeServer.clientProxySettings(withoutLimit).maxConnectionsPerSandbox())
        .isEqualTo(-1);
  }
}
