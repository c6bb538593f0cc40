package dev.sbx.cli;

import dev.sbx.cli.doctor.DoctorCommand;
import dev.sbx.cli.keys.KeysCommand;
import dev.sbx.cli.sandbox.SandboxCommand;
import dev.sbx.cli.server.ApiCommand;
import dev.sbx.cli.server.OrchestratorCommand;
import dev.sbx.cli.server.ProxyCommand;
import dev.sbx.cli.server.UpCommand;
import dev.sbx.cli.template.TemplateCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code sbx}: the entry point of the JVM side of the command (the {@code ./sbx} script installs
 * what is missing, builds, and hands everything else to this class).
 *
 * <p>Settings come from flags, then environment variables ({@code SBX_…}, named in each option's
 * help), then one optional properties file ({@code SBX_CONFIG}, else {@code
 * /etc/sbx/sbx.properties} when it exists), then the built-in defaults. See {@code
 * docs/operations.md}.
 */
@Command(
    name = "sbx",
    mixinStandardHelpOptions = true,
    version = "sbx 0.1.0",
    description = "Self-hostable, E2B-compatible sandboxes.",
    subcommands = {
      UpCommand.class,
      ApiCommand.class,
      ProxyCommand.class,
      OrchestratorCommand.class,
      SandboxCommand.class,
      KeysCommand.class,
      TemplateCommand.class,
      DoctorCommand.class,
    })
public final class Main {

  private Main() {}

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The command line with its settings file, if any, as the source of defaults. */
  public static CommandLine commandLine() {
    CommandLine commandLine = new CommandLine(Main.class);
    // `sbx sandbox exec <id> ls -la`: everything after the sandbox id is the command
    CommandLine sandbox =
        java.util.Objects.requireNonNull(commandLine.getSubcommands().get("sandbox"));
    java.util.Objects.requireNonNull(sandbox.getSubcommands().get("exec"))
        .setStopAtPositional(true);
    Path settings = settingsFile();
    if (settings != null) {
      commandLine.setDefaultValueProvider(
          new CommandLine.PropertiesDefaultProvider(settings.toFile()));
    }
    return commandLine;
  }

  private static @org.jspecify.annotations.Nullable Path settingsFile() {
    String configured = System.getenv("SBX_CONFIG");
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured);
    }
    Path system = Path.of("/etc/sbx/sbx.properties");
    return Files.isRegularFile(system) ? system : null;
  }
}
