package dev.sbx.orchestrator.template;

import static java.util.Objects.requireNonNull;

import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.stream.JsonWriter;
import dev.sbx.orchestrator.runtime.ResourceLimits;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A template's settings, kept beside its rootfs in {@code template.json}: the defaults of every
 * sandbox made from it (which a request may override) and facts about how it was built.
 *
 * @param cpuCount vCPUs of a sandbox that asks for none
 * @param memoryMB memory in MiB of a sandbox that asks for none
 * @param defaultUser envd's default user (the user commands run as when the request names none)
 * @param defaultWorkdir envd's default working directory, absolute
 * @param startCommand a command started in the background in every new sandbox once envd is
 *     initialised (the lifecycle's {@code StartCommand}), or null for none
 * @param envVars environment variables of every process in the sandbox; a request's own variables
 *     of the same name win
 * @param envdVersion the envd version the template was checked with, or null if unknown
 * @param builtAt when the template was built, or null if unknown
 * @param buildMillis how long the build took in milliseconds, or 0 if unknown
 * @param rootfsBytes the rootfs's size on disk in bytes (the sum of its files' allocated blocks),
 *     or 0 if unknown
 */
public record TemplateSettings(
    int cpuCount,
    int memoryMB,
    String defaultUser,
    String defaultWorkdir,
    @Nullable String startCommand,
    SequencedMap<String, String> envVars,
    @Nullable String envdVersion,
    @Nullable Instant builtAt,
    long buildMillis,
    long rootfsBytes) {

  private static final Pattern USER = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");
  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  /** 2 vCPUs, 512 MiB, user {@code user} in {@code /home/user}, nothing else. */
  public static final TemplateSettings DEFAULT =
      new TemplateSettings(
          ResourceLimits.DEFAULT.cpuCount(),
          ResourceLimits.DEFAULT.memoryMB(),
          "user",
          "/home/user",
          null,
          new LinkedHashMap<>(),
          null,
          null,
          0,
          0);

  private static final Set<String> FIELDS =
      Set.of(
          "cpuCount",
          "memoryMB",
          "defaultUser",
          "defaultWorkdir",
          "startCommand",
          "envVars",
          "envdVersion",
          "builtAt",
          "buildMillis",
          "rootfsBytes");

  /**
   * @throws IllegalArgumentException if a setting is out of range or malformed
   */
  public TemplateSettings {
    requireNonNull(defaultUser, "defaultUser");
    requireNonNull(defaultWorkdir, "defaultWorkdir");
    requireNonNull(envVars, "envVars");
    new ResourceLimits(cpuCount, memoryMB, ResourceLimits.DEFAULT.pidsLimit()); // checks the range
    if (!USER.matcher(defaultUser).matches()) {
      throw new IllegalArgumentException("not a valid user name: " + defaultUser);
    }
    if (!defaultWorkdir.startsWith("/") || defaultWorkdir.indexOf('\0') >= 0) {
      throw new IllegalArgumentException(
          "defaultWorkdir must be an absolute path: " + defaultWorkdir);
    }
    if (startCommand != null && (startCommand.isBlank() || startCommand.indexOf('\0') >= 0)) {
      throw new IllegalArgumentException("startCommand must not be blank or hold NUL");
    }
    for (Map.Entry<String, String> e : envVars.entrySet()) {
      if (!ENV_NAME.matcher(e.getKey()).matches()) {
        throw new IllegalArgumentException("not a valid environment variable name: " + e.getKey());
      }
      if (e.getValue().indexOf('\0') >= 0) {
        throw new IllegalArgumentException("environment variable " + e.getKey() + " holds NUL");
      }
    }
    if (buildMillis < 0 || rootfsBytes < 0) {
      throw new IllegalArgumentException("buildMillis and rootfsBytes must not be negative");
    }
    envVars = Collections.unmodifiableSequencedMap(new LinkedHashMap<>(envVars));
  }

  /** The limits of a sandbox that asks for none: this template's CPUs and memory. */
  public ResourceLimits limits() {
    return new ResourceLimits(cpuCount, memoryMB, ResourceLimits.DEFAULT.pidsLimit());
  }

  public TemplateSettings withBuild(
      @Nullable String envdVersion, Instant builtAt, long buildMillis, long rootfsBytes) {
    return new TemplateSettings(
        cpuCount,
        memoryMB,
        defaultUser,
        defaultWorkdir,
        startCommand,
        envVars,
        envdVersion,
        requireNonNull(builtAt, "builtAt"),
        buildMillis,
        rootfsBytes);
  }

  public TemplateSettings withEnvVars(SequencedMap<String, String> envVars) {
    return new TemplateSettings(
        cpuCount,
        memoryMB,
        defaultUser,
        defaultWorkdir,
        startCommand,
        envVars,
        envdVersion,
        builtAt,
        buildMillis,
        rootfsBytes);
  }

  /**
   * Reads settings from {@code template.json} text. Every field is optional (absent or {@code
   * null}: the {@link #DEFAULT}); an unknown field or a value of the wrong type is an error, so
   * that a misspelt setting is not silently ignored.
   *
   * @throws IllegalArgumentException with what is wrong if the text is not valid settings
   */
  public static TemplateSettings fromJson(String json) {
    requireNonNull(json, "json");
    JsonElement root;
    try {
      root = JsonParser.parseString(json);
    } catch (JsonParseException e) {
      throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
    }
    if (!root.isJsonObject()) {
      throw new IllegalArgumentException("not a JSON object");
    }
    JsonObject object = root.getAsJsonObject();
    for (String key : object.keySet()) {
      if (!FIELDS.contains(key)) {
        throw new IllegalArgumentException("unknown field '" + key + "' (known: " + FIELDS + ")");
      }
    }
    TemplateSettings d = DEFAULT;
    String builtAt = string(object, "builtAt", null);
    return new TemplateSettings(
        (int) number(object, "cpuCount", d.cpuCount(), Integer.MAX_VALUE),
        (int) number(object, "memoryMB", d.memoryMB(), Integer.MAX_VALUE),
        requireNonNull(string(object, "defaultUser", d.defaultUser())),
        requireNonNull(string(object, "defaultWorkdir", d.defaultWorkdir())),
        string(object, "startCommand", null),
        envVars(object),
        string(object, "envdVersion", null),
        builtAt == null ? null : instant(builtAt),
        number(object, "buildMillis", 0, Long.MAX_VALUE),
        number(object, "rootfsBytes", 0, Long.MAX_VALUE));
  }

  /** The settings as {@code template.json} text (pretty-printed, fields in declaration order). */
  public String toJson() {
    StringWriter out = new StringWriter();
    try (JsonWriter json = new JsonWriter(out)) {
      json.setIndent("  ");
      json.setSerializeNulls(true);
      json.beginObject();
      json.name("cpuCount").value(cpuCount);
      json.name("memoryMB").value(memoryMB);
      json.name("defaultUser").value(defaultUser);
      json.name("defaultWorkdir").value(defaultWorkdir);
      json.name("startCommand").value(startCommand);
      json.name("envVars").beginObject();
      for (Map.Entry<String, String> e : envVars.entrySet()) {
        json.name(e.getKey()).value(e.getValue());
      }
      json.endObject();
      json.name("envdVersion").value(envdVersion);
      json.name("builtAt").value(builtAt == null ? null : builtAt.toString());
      json.name("buildMillis").value(buildMillis);
      json.name("rootfsBytes").value(rootfsBytes);
      json.endObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a StringWriter does not fail
    }
    return out + "\n";
  }

  private static @Nullable JsonPrimitive primitive(JsonObject object, String key) {
    JsonElement value = object.get(key);
    if (value == null || value instanceof JsonNull) {
      return null;
    }
    if (!value.isJsonPrimitive()) {
      throw new IllegalArgumentException(key + " must be a string or a number, not " + value);
    }
    return value.getAsJsonPrimitive();
  }

  private static long number(JsonObject object, String key, long absent, long max) {
    JsonPrimitive value = primitive(object, key);
    if (value == null) {
      return absent;
    }
    if (!value.isNumber()) {
      throw new IllegalArgumentException(key + " must be a number, not " + value);
    }
    BigDecimal decimal = value.getAsBigDecimal();
    try {
      long whole = decimal.longValueExact();
      if (whole < 0 || whole > max) {
        throw new IllegalArgumentException(key + " out of range: " + value);
      }
      return whole;
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException(key + " must be a whole number: " + value, e);
    }
  }

  private static @Nullable String string(JsonObject object, String key, @Nullable String absent) {
    JsonPrimitive value = primitive(object, key);
    if (value == null) {
      return absent;
    }
    if (!value.isString()) {
      throw new IllegalArgumentException(key + " must be a string, not " + value);
    }
    return value.getAsString();
  }

  private static SequencedMap<String, String> envVars(JsonObject object) {
    JsonElement value = object.get("envVars");
    SequencedMap<String, String> envVars = new LinkedHashMap<>();
    if (value == null || value instanceof JsonNull) {
      return envVars;
    }
    if (!value.isJsonObject()) {
      throw new IllegalArgumentException("envVars must be an object of strings, not " + value);
    }
    for (Map.Entry<String, JsonElement> e : value.getAsJsonObject().entrySet()) {
      if (!e.getValue().isJsonPrimitive() || !e.getValue().getAsJsonPrimitive().isString()) {
        throw new IllegalArgumentException(
            "envVars." + e.getKey() + " must be a string, not " + e.getValue());
      }
      envVars.put(e.getKey(), e.getValue().getAsString());
    }
    return envVars;
  }

  private static Instant instant(String text) {
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("builtAt is not an ISO-8601 instant: " + text, e);
    }
  }
}
