package dev.sbx.orchestrator.template;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The templates of this node, one directory per template id: {@code <root>/<templateId>/rootfs/} is
 * the rootfs (the read-only lower layer of each sandbox's overlay) and {@code
 * <root>/<templateId>/template.json} its {@link TemplateSettings}. Nothing is cached: a template
 * added, replaced or removed on disk is seen at the next call. Names that are not template ids
 * (such as a builder's {@code .base.building-…}) are ignored.
 */
public final class TemplateDirectory {
  private static final Pattern TEMPLATE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  private final Path root;

  public TemplateDirectory(Path root) {
    this.root = requireNonNull(root, "root").toAbsolutePath().normalize();
  }

  public Path root() {
    return root;
  }

  /** Whether {@code templateId} is a well-formed template id. */
  public static boolean isValidId(String templateId) {
    return TEMPLATE_ID.matcher(templateId).matches();
  }

  /** The directory {@code templateId} has or would have ({@code <root>/<templateId>}). */
  public Path directory(String templateId) {
    requireNonNull(templateId, "templateId");
    if (!isValidId(templateId)) {
      throw new IllegalArgumentException("not a valid template id: " + templateId);
    }
    return root.resolve(templateId);
  }

  /**
   * The template {@code templateId}, its settings read now.
   *
   * @throws IllegalArgumentException if {@code templateId} is not a valid template id
   * @throws UnknownTemplateException if there is no such template
   * @throws InvalidTemplateException if its directory lacks {@code rootfs/} or {@code
   *     template.json}, or the settings are malformed
   */
  public Template template(String templateId) {
    Path directory = directory(templateId);
    if (!Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS)) {
      throw new UnknownTemplateException(templateId);
    }
    Path rootfs = directory.resolve(Template.ROOTFS_DIR);
    if (!Files.isDirectory(rootfs, LinkOption.NOFOLLOW_LINKS)) {
      throw new InvalidTemplateException(
          "template " + templateId + " has no rootfs directory " + rootfs);
    }
    Path file = directory.resolve(Template.SETTINGS_FILE);
    String json;
    try {
      if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
        throw new InvalidTemplateException(
            "template " + templateId + " has no settings file " + file);
      }
      json = Files.readString(file);
    } catch (IOException e) {
      throw new InvalidTemplateException("reading " + file + " failed: " + e, e);
    }
    try {
      return new Template(templateId, directory, rootfs, TemplateSettings.fromJson(json));
    } catch (IllegalArgumentException e) {
      throw new InvalidTemplateException(
          "template " + templateId + ": malformed " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The rootfs directory of {@code templateId}.
   *
   * @throws IllegalArgumentException if {@code templateId} is not a valid template id
   * @throws UnknownTemplateException if there is no such template
   * @throws InvalidTemplateException if the template is not usable
   */
  public Path rootfs(String templateId) {
    return template(templateId).rootfs();
  }

  /**
   * Writes a template from a prepared rootfs: {@code settings} to {@code template.json} in {@code
   * directory}, beside {@code directory/rootfs} (which must exist). For builders and test fixtures.
   */
  public static void writeSettings(Path directory, TemplateSettings settings) throws IOException {
    if (!Files.isDirectory(directory.resolve(Template.ROOTFS_DIR), LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException("no rootfs directory in " + directory);
    }
    Path file = directory.resolve(Template.SETTINGS_FILE);
    Path partial = directory.resolve(Template.SETTINGS_FILE + ".partial");
    Files.writeString(partial, settings.toJson());
    Files.move(partial, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** The ids of every template, sorted; empty if the directory does not exist. */
  public List<String> ids() {
    List<String> ids = new ArrayList<>();
    if (!Files.isDirectory(root)) {
      return ids;
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        if (TEMPLATE_ID.matcher(name).matches()
            && Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
          ids.add(name);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("listing templates in " + root + " failed", e);
    }
    ids.sort(null);
    return ids;
  }
}
