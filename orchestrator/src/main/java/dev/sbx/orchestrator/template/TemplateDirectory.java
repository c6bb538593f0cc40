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
 * A directory of template rootfs directories, one per template id: {@code <root>/<templateId>/} is
 * the rootfs (the read-only lower layer of each sandbox's overlay). Nothing is cached: a template
 * added or removed on disk is seen at the next call.
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

  /**
   * The rootfs directory of {@code templateId}.
   *
   * @throws IllegalArgumentException if {@code templateId} is not a valid template id
   * @throws UnknownTemplateException if there is no such template
   */
  public Path rootfs(String templateId) {
    requireNonNull(templateId, "templateId");
    if (!TEMPLATE_ID.matcher(templateId).matches()) {
      throw new IllegalArgumentException("not a valid template id: " + templateId);
    }
    Path rootfs = root.resolve(templateId);
    if (!Files.isDirectory(rootfs, LinkOption.NOFOLLOW_LINKS)) {
      throw new UnknownTemplateException(templateId);
    }
    return rootfs;
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
