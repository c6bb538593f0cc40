package dev.sbx.cli.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sbx.sdk.SandboxInfo;
import dev.sbx.sdk.SandboxLogEntry;
import dev.sbx.sdk.SandboxState;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

class RenderTest {
  private static final SandboxInfo PAUSED =
      new SandboxInfo(
          "isb2",
          "tpl9",
          null,
          Map.of(),
          Instant.parse("2026-01-02T03:04:05Z"),
          Instant.parse("2026-01-02T04:04:05Z"),
          SandboxState.PAUSED,
          1,
          256,
          0,
          "0.6.4");

  @Test
  void aSandboxWithoutAliasOrMetadata() {
    StringWriter text = new StringWriter();
    Render.table(List.of(PAUSED), new PrintWriter(text));
    assertThat(text.toString().lines().toList().get(1))
        .isEqualTo(
            "isb2        tpl9      paused  1     256        2026-01-02T03:04:05Z  2026-01-02T04:04:05Z  -");
    JsonObject json = Render.json(PAUSED);
    assertThat(json.getValue("alias")).isNull();
    assertThat(json.containsKey("alias")).isTrue();
    assertThat(json.getJsonObject("metadata").isEmpty()).isTrue();
    assertThat(Render.json(List.of())).isEqualTo("[]");

    StringWriter details = new StringWriter();
    Render.details(PAUSED, Instant.parse("2026-01-02T03:34:05Z"), new PrintWriter(details));
    assertThat(details.toString()).contains("ends        2026-01-02T04:04:05Z (in 30m 0s)");
  }

  @Test
  void durationsForPeople() {
    assertThat(Render.until(Instant.EPOCH, Instant.ofEpochSecond(59))).isEqualTo("in 59s");
    assertThat(Render.until(Instant.ofEpochSecond(3725), Instant.EPOCH)).isEqualTo("1h 2m ago");
  }

  @Test
  void logEntries() {
    SandboxLogEntry entry =
        new SandboxLogEntry(
            Instant.parse("2026-01-02T03:04:05.5Z"),
            "warn",
            "sandbox killed",
            Map.of("reason", "timeout", "by", "ttl"));
    assertThat(Render.line(entry))
        .isEqualTo("2026-01-02T03:04:05.500Z  WARN   sandbox killed  by=ttl  reason=timeout");
    assertThat(new JsonObject(Render.json(entry)).getJsonObject("fields").getString("by"))
        .isEqualTo("ttl");
  }

  @Test
  void durationsOnTheCommandLine() {
    assertThat(DurationConverter.parse("300")).isEqualTo(Duration.ofSeconds(300));
    assertThat(DurationConverter.parse("90s")).isEqualTo(Duration.ofSeconds(90));
    assertThat(DurationConverter.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
    assertThat(DurationConverter.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(DurationConverter.parse("PT5M")).isEqualTo(Duration.ofMinutes(5));
    for (String bad :
        List.of("", "5x", "m5", "-5s", "5m banana", "99999999999999999999", "PT-5S")) {
      assertThatThrownBy(() -> DurationConverter.parse(bad))
          .as(bad)
          .isInstanceOf(TypeConversionException.class);
    }
  }
}
