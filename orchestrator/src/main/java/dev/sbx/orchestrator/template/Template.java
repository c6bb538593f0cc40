package dev.sbx.orchestrator.template;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;

/**
 * A template on this node.
 *
 * @param id the template id (the name of its directory)
 * @param directory {@code <templatesDir>/<id>}
 * @param rootfs {@code <directory>/rootfs}: the read-only lower layer of each sandbox's overlay
 * @param settings what {@code <directory>/template.json} says
 */
public record Template(String id, Path directory, Path rootfs, TemplateSettings settings) {
  /** The name of the settings file in a template's directory. */
  public static final String SETTINGS_FILE = "template.json";

  /** The name of the rootfs directory in a template's directory. */
  public static final String ROOTFS_DIR = "rootfs";

  public Template {
    requireNonNull(id, "id");
    requireNonNull(directory, "directory");
    requireNonNull(rootfs, "rootfs");
    requireNonNull(settings, "settings");
  }
}
