package dev.sbx.orchestrator.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TemplateDirectoryTest {
  @TempDir Path root;

  @Test
  void templatesAreTheDirectoriesByIdSorted() throws Exception {
    Files.createDirectories(root.resolve("base"));
    Files.createDirectories(root.resolve("a-1.2_x"));
    Files.writeString(root.resolve("not-a-dir"), "x");
    Files.createSymbolicLink(root.resolve("link"), root.resolve("base"));

    TemplateDirectory templates = new TemplateDirectory(root);

    assertThat(templates.ids()).containsExactly("a-1.2_x", "base");
    assertThat(templates.rootfs("base")).isEqualTo(root.resolve("base"));
  }

  @Test
  void unknownTemplatesAreRefused() {
    TemplateDirectory templates = new TemplateDirectory(root);

    assertThatThrownBy(() -> templates.rootfs("missing"))
        .isInstanceOf(UnknownTemplateException.class)
        .hasMessage("unknown template: missing");
  }

  @Test
  void symlinksAndFilesAreNotTemplates() throws Exception {
    Files.writeString(root.resolve("file"), "x");
    Files.createDirectories(root.resolve("real"));
    Files.createSymbolicLink(root.resolve("link"), root.resolve("real"));
    TemplateDirectory templates = new TemplateDirectory(root);

    assertThatThrownBy(() -> templates.rootfs("file")).isInstanceOf(UnknownTemplateException.class);
    assertThatThrownBy(() -> templates.rootfs("link")).isInstanceOf(UnknownTemplateException.class);
  }

  @Test
  void malformedIdsAreInvalidNotUnknown() {
    TemplateDirectory templates = new TemplateDirectory(root);

    for (String id : new String[] {"", "..", "../etc", "a/b", ".hidden", "-x"}) {
      assertThatThrownBy(() -> templates.rootfs(id))
          .as(id)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void aMissingDirectoryHasNoTemplates() {
    assertThat(new TemplateDirectory(root.resolve("absent")).ids()).isEmpty();
  }
}
