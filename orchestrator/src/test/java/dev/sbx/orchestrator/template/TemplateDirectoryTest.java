package dev.sbx.orchestrator.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TemplateDirectoryTest {
  @TempDir Path root;

  Path template(String id, String json) throws Exception {
    Path dir = root.resolve(id);
    Files.createDirectories(dir.resolve("rootfs"));
    Files.writeString(dir.resolve("template.json"), json);
    return dir;
  }

  @Test
  void templatesAreTheDirectoriesByIdSorted() throws Exception {
    template("base", "{\"cpuCount\": 4}");
    template("a-1.2_x", "{}");
    Files.writeString(root.resolve("not-a-dir"), "x");
    Files.createSymbolicLink(root.resolve("link"), root.resolve("base"));
    Files.createDirectories(root.resolve(".base.building-123/rootfs"));

    TemplateDirectory templates = new TemplateDirectory(root);

    assertThat(templates.ids()).containsExactly("a-1.2_x", "base");
    Template base = templates.template("base");
    assertThat(base.id()).isEqualTo("base");
    assertThat(base.directory()).isEqualTo(root.resolve("base"));
    assertThat(base.rootfs()).isEqualTo(root.resolve("base/rootfs"));
    assertThat(base.settings().cpuCount()).isEqualTo(4);
    assertThat(base.settings().memoryMB()).isEqualTo(512);
    assertThat(templates.rootfs("base")).isEqualTo(root.resolve("base/rootfs"));
  }

  @Test
  void writeSettingsPutsTemplateJsonBesideTheRootfs() throws Exception {
    Path dir = root.resolve("t");
    Files.createDirectories(dir.resolve("rootfs"));
    TemplateSettings settings =
        TemplateSettings.DEFAULT.withBuild("0.6.4", java.time.Instant.EPOCH, 5, 6);

    TemplateDirectory.writeSettings(dir, settings);

    assertThat(new TemplateDirectory(root).template("t").settings()).isEqualTo(settings);
    assertThat(dir.resolve("template.json.partial")).doesNotExist();
    assertThatThrownBy(() -> TemplateDirectory.writeSettings(root, settings))
        .hasMessageContaining("no rootfs directory");
  }

  @Test
  void unknownTemplatesAreRefused() {
    TemplateDirectory templates = new TemplateDirectory(root);

    assertThatThrownBy(() -> templates.rootfs("missing"))
        .isInstanceOf(UnknownTemplateException.class)
        .hasMessage("unknown template: missing");
  }

  @Test
  void aTemplateWithoutSettingsOrRootfsOrWithMalformedSettingsIsInvalid() throws Exception {
    Files.createDirectories(root.resolve("plain/bin")); // a bare rootfs is no longer a template
    Files.createDirectories(root.resolve("nojson/rootfs"));
    Files.createDirectories(root.resolve("norootfs"));
    Files.writeString(root.resolve("norootfs/template.json"), "{}");
    template("broken", "{\"memoryMB\": \"lots\"}");
    TemplateDirectory templates = new TemplateDirectory(root);

    assertThatThrownBy(() -> templates.template("plain"))
        .isInstanceOf(InvalidTemplateException.class)
        .hasMessageContaining("template plain has no rootfs directory");
    assertThatThrownBy(() -> templates.template("nojson"))
        .isInstanceOf(InvalidTemplateException.class)
        .hasMessageContaining("template nojson has no settings file")
        .hasMessageContaining("template.json");
    assertThatThrownBy(() -> templates.template("norootfs"))
        .isInstanceOf(InvalidTemplateException.class)
        .hasMessageContaining("no rootfs directory");
    assertThatThrownBy(() -> templates.template("broken"))
        .isInstanceOf(InvalidTemplateException.class)
        .hasMessageContaining("template broken: malformed")
        .hasMessageContaining("memoryMB must be a number");
  }

  @Test
  void symlinksAndFilesAreNotTemplates() throws Exception {
    Files.writeString(root.resolve("file"), "x");
    template("real", "{}");
    Files.createSymbolicLink(root.resolve("link"), root.resolve("real"));
    TemplateDirectory templates = new TemplateDirectory(root);

    assertThatThrownBy(() -> templates.rootfs("file")).isInstanceOf(UnknownTemplateException.class);
    assertThatThrownBy(() -> templates.rootfs("link")).isInstanceOf(UnknownTemplateException.class);
  }

  @Test
  void aSymlinkedRootfsIsNotUsed() throws Exception {
    Files.createDirectories(root.resolve("elsewhere"));
    Files.createDirectories(root.resolve("t"));
    Files.createSymbolicLink(root.resolve("t/rootfs"), root.resolve("elsewhere"));
    Files.writeString(root.resolve("t/template.json"), "{}");

    assertThatThrownBy(() -> new TemplateDirectory(root).template("t"))
        .isInstanceOf(InvalidTemplateException.class);
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
