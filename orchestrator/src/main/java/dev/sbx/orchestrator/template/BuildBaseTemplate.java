package dev.sbx.orchestrator.template;

import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * Builds (or reuses) the {@code base} template; what {@code sbx template build-base} runs.
 *
 * <p>{@code BuildBaseTemplate [--rebuild] [--templates <dir>] [--envd-version <v>]}: templates in
 * {@code /var/lib/sbx/templates} by default (system property {@code sbx.templates} too). Progress
 * goes to stderr, the template's directory to stdout. Exit 0 when the template is ready, 1 when the
 * build failed, 2 on a bad argument.
 */
public final class BuildBaseTemplate {
  private BuildBaseTemplate() {}

  public static void main(String[] args) throws Exception {
    System.exit(run(args));
  }

  /** Runs with {@code args}; returns the exit code. */
  public static int run(String... args) throws InterruptedException {
    boolean rebuild = false;
    Path templatesDir =
        Path.of(
            System.getProperty(
                "sbx.templates", BaseTemplateBuilder.DEFAULT_TEMPLATES_DIR.toString()));
    @Nullable String envdVersion = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rebuild" -> rebuild = true;
        case "--templates", "--envd-version" -> {
          if (i + 1 >= args.length) {
            System.err.println("build-base: " + args[i] + " needs a value");
            return 2;
          }
          if (args[i].equals("--templates")) {
            templatesDir = Path.of(args[++i]);
          } else {
            envdVersion = args[++i];
          }
        }
        default -> {
          System.err.println(
              "build-base: unknown argument "
                  + args[i]
                  + "\nusage: build-base [--rebuild] [--templates <dir>] [--envd-version <v>]");
          return 2;
        }
      }
    }
    BaseTemplateBuilder builder =
        new BaseTemplateBuilder(
            new TemplateDirectory(templatesDir), System.err::println, envdVersion);
    try {
      Template template = builder.build(rebuild);
      System.out.println(template.directory());
      return 0;
    } catch (java.io.IOException | RuntimeException e) {
      System.err.println("build-base: " + e.getMessage());
      return 1;
    }
  }
}
