package dev.sbx.orchestrator.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sbx.orchestrator.lifecycle.SandboxRequest;
import dev.sbx.orchestrator.runtime.ResourceLimits;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TemplateSettingsTest {
  @Test
  void defaultsAreTwoCpusHalfAGibibyteAndUserInHisHome() {
    TemplateSettings d = TemplateSettings.DEFAULT;
    assertThat(d.limits()).isEqualTo(ResourceLimits.DEFAULT);
    assertThat(d.defaultUser()).isEqualTo("user");
    assertThat(d.defaultWorkdir()).isEqualTo("/home/user");
    assertThat(d.startCommand()).isNull();
    assertThat(d.envVars()).isEmpty();
    assertThat(TemplateSettings.fromJson("{}")).isEqualTo(d);
  }

  @Test
  void roundTripsThroughJson() {
    LinkedHashMap<String, String> env = new LinkedHashMap<>();
    env.put("LANG", "C.UTF-8");
    env.put("A_B", "x=y \"q\"");
    TemplateSettings settings =
        new TemplateSettings(
            4,
            2048,
            "runner",
            "/work",
            "python3 -m http.server",
            env,
            "0.6.4",
            Instant.parse("2026-11-24T08:00:00.123Z"),
            123_456,
            987_654_321);

    String json = settings.toJson();

    assertThat(TemplateSettings.fromJson(json)).isEqualTo(settings);
    assertThat(TemplateSettings.fromJson(json).envVars().keySet()).containsExactly("LANG", "A_B");
    assertThat(json).contains("\"cpuCount\": 4").contains("\"startCommand\": \"python3 -m http");
    assertThat(TemplateSettings.DEFAULT.withBuild(null, Instant.EPOCH, 1, 2).toJson())
        .contains("\"envdVersion\": null");
  }

  @Test
  void absentAndNullFieldsTakeTheDefaults() {
    TemplateSettings settings =
        TemplateSettings.fromJson("{\"memoryMB\": 1024, \"defaultUser\": null}");

    assertThat(settings.memoryMB()).isEqualTo(1024);
    assertThat(settings.cpuCount()).isEqualTo(2);
    assertThat(settings.defaultUser()).isEqualTo("user");
  }

  @Test
  void malformedSettingsSayWhatIsWrong() {
    assertRefused("{\"cpuCount\": ", "not JSON");
    assertRefused("[1]", "not a JSON object");
    assertRefused("{\"cpucount\": 2}", "unknown field 'cpucount'");
    assertRefused("{\"cpuCount\": \"2\"}", "cpuCount must be a number");
    assertRefused("{\"cpuCount\": 1.5}", "cpuCount must be a whole number");
    assertRefused("{\"cpuCount\": 0}", "cpuCount must be at least 1");
    assertRefused("{\"cpuCount\": -3}", "cpuCount out of range");
    assertRefused("{\"memoryMB\": 1}", "memoryMB must be at least 64");
    assertRefused("{\"memoryMB\": 99999999999}", "memoryMB out of range");
    assertRefused("{\"defaultUser\": 7}", "defaultUser must be a string");
    assertRefused("{\"defaultUser\": \"Root:x\"}", "not a valid user name");
    assertRefused("{\"defaultWorkdir\": \"home\"}", "absolute path");
    assertRefused("{\"startCommand\": \"  \"}", "startCommand must not be blank");
    assertRefused("{\"envVars\": [\"A=1\"]}", "envVars must be an object");
    assertRefused("{\"envVars\": {\"A\": 1}}", "envVars.A must be a string");
    assertRefused("{\"envVars\": {\"A=B\": \"1\"}}", "not a valid environment variable name");
    assertRefused("{\"builtAt\": \"yesterday\"}", "builtAt is not an ISO-8601 instant");
    assertRefused("{\"envVars\": {\"A\": {}}}", "envVars.A must be a string");
    assertRefused("{\"cpuCount\": {}}", "cpuCount must be a string or a number");
  }

  private static void assertRefused(String json, String message) {
    assertThatThrownBy(() -> TemplateSettings.fromJson(json))
        .as(json)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message);
  }

  @Test
  void aRequestTakesTheTemplatesUserWorkdirAndEnvWhereItHasNone() {
    LinkedHashMap<String, String> templateEnv = new LinkedHashMap<>();
    templateEnv.put("LANG", "C.UTF-8");
    templateEnv.put("MODE", "template");
    TemplateSettings settings =
        new TemplateSettings(1, 256, "runner", "/work", null, templateEnv, null, null, 0, 0);
    SandboxRequest bare = SandboxRequest.of("s1", "t");

    SandboxRequest filled = bare.withDefaultsOf(settings);

    assertThat(filled.defaultUser()).isEqualTo("runner");
    assertThat(filled.defaultWorkdir()).isEqualTo("/work");
    assertThat(filled.envVars())
        .containsExactly(Map.entry("LANG", "C.UTF-8"), Map.entry("MODE", "template"));

    LinkedHashMap<String, String> ownEnv = new LinkedHashMap<>();
    ownEnv.put("MODE", "request");
    SandboxRequest own =
        new SandboxRequest(
            "s2",
            "t",
            ResourceLimits.DEFAULT,
            ownEnv,
            Map.of(),
            null,
            "root",
            "/",
            null,
            bare.egress());
    SandboxRequest kept = own.withDefaultsOf(settings);
    assertThat(kept.defaultUser()).isEqualTo("root");
    assertThat(kept.defaultWorkdir()).isEqualTo("/");
    assertThat(kept.envVars()).containsEntry("MODE", "request").containsEntry("LANG", "C.UTF-8");
  }
}
