package dev.sbx.cli.template;

import dev.sbx.cli.output.BuildProgress;
import dev.sbx.cli.output.Table;
import dev.sbx.cli.output.Terminal;
import dev.sbx.orchestrator.template.BaseTemplateBuilder;
import dev.sbx.orchestrator.template.Template;
import dev.sbx.orchestrator.template.TemplateDirectory;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sbx template}: the templates of this host's orchestrator. */
@Command(
    name = "template",
    mixinStandardHelpOptions = true,
    description = "List this host's templates; build the base template.",
    subcommands = {TemplateCommand.ListTemplates.class, TemplateCommand.BuildBase.class})
public final class TemplateCommand {

  static final class Location {
    @Option(
        names = "--templates",
        defaultValue = "${env:SBX_TEMPLATES:-/var/lib/sbx/templates}",
        description = "Template directory (env SBX_TEMPLATES; default ${DEFAULT-VALUE}).")
    Path templates = BaseTemplateBuilder.DEFAULT_TEMPLATES_DIR;
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List the templates.")
  static final class ListTemplates implements Callable<Integer> {
    @picocli.CommandLine.Mixin Location location = new Location();

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Spec
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    @Override
    public Integer call() {
      TemplateDirectory directory = new TemplateDirectory(location.templates);
      List<Template> templates = new ArrayList<>();
      List<String> broken = new ArrayList<>();
      for (String id : directory.ids()) {
        try {
          templates.add(directory.template(id));
        } catch (RuntimeException e) {
          broken.add(id + ": " + e.getMessage());
        }
      }
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        JsonArray array = new JsonArray();
        for (Template t : templates) {
          array.add(
              new JsonObject()
                  .put("templateID", t.id())
                  .put("cpuCount", t.settings().cpuCount())
                  .put("memoryMB", t.settings().memoryMB())
                  .put("defaultUser", t.settings().defaultUser())
                  .put("directory", t.directory().toString()));
        }
        out.println(array.encode());
      } else {
        Table table = new Table("TEMPLATE", "CPUS", "MEMORY MB", "USER", "DIRECTORY");
        for (Template t : templates) {
          table.row(
              t.id(),
              String.valueOf(t.settings().cpuCount()),
              String.valueOf(t.settings().memoryMB()),
              t.settings().defaultUser(),
              t.directory().toString());
        }
        table.print(out);
      }
      out.flush();
      for (String problem : broken) {
        spec.commandLine().getErr().println("sbx template list: not a template: " + problem);
      }
      return broken.isEmpty() ? 0 : 1;
    }
  }

  @Command(
      name = "build-base",
      mixinStandardHelpOptions = true,
      description =
          "Build the base template (Debian bookworm with python3, node, git, sudo, user `user`)"
              + " with mmdebstrap; an existing one is kept unless --rebuild.")
  static final class BuildBase implements Callable<Integer> {
    @picocli.CommandLine.Mixin Location location = new Location();

    @Option(names = "--rebuild", description = "Build it again even if it exists.")
    boolean rebuild;

    @Option(
        names = "--envd-version",
        description = "The envd version recorded in the template (default: this build's).")
    @Nullable String envdVersion;

    @Option(
        names = "--plain",
        description =
            "Print every line instead of a progress bar (the default when stderr is"
                + " not a terminal).")
    boolean plain;

    @Spec
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
      BuildProgress progress =
          plain ? new BuildProgress(System.err, false, Terminal::width) : BuildProgress.onStderr();
      try (progress) {
        BaseTemplateBuilder builder =
            new BaseTemplateBuilder(
                new TemplateDirectory(location.templates), progress, envdVersion);
        Template template = builder.build(rebuild);
        progress.close();
        spec.commandLine().getOut().println(template.directory());
        spec.commandLine().getOut().flush();
        return 0;
      } catch (java.io.IOException | RuntimeException e) {
        progress.close();
        System.err.println("sbx template build-base: " + e.getMessage());
        return 1;
      }
    }
  }
}
