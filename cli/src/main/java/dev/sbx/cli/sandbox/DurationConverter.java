package dev.sbx.cli.sandbox;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * A duration on the command line: {@code 300} (seconds), {@code 90s}, {@code 5m}, {@code 1h},
 * {@code 1h30m}, {@code 500ms}, or ISO-8601 ({@code PT5M}).
 */
public final class DurationConverter implements ITypeConverter<Duration> {
  private static final Pattern PARTS = Pattern.compile("(\\d+)(ms|h|m|s)");

  @Override
  public Duration convert(String value) {
    return parse(value);
  }

  /** Parses a duration; throws {@link TypeConversionException} with a readable message. */
  public static Duration parse(String value) {
    try {
      return parseStrict(value);
    } catch (NumberFormatException | ArithmeticException e) {
      throw invalid(value);
    }
  }

  private static Duration parseStrict(String value) {
    String text = value.strip().toLowerCase(Locale.ROOT);
    if (text.matches("\\d+")) {
      return Duration.ofSeconds(Long.parseLong(text));
    }
    if (text.startsWith("pt") || text.startsWith("p")) {
      try {
        Duration parsed = Duration.parse(text.toUpperCase(Locale.ROOT));
        if (parsed.isNegative()) {
          throw new TypeConversionException("'" + value + "' is negative");
        }
        return parsed;
      } catch (DateTimeParseException e) {
        throw invalid(value);
      }
    }
    Matcher parts = PARTS.matcher(text);
    Duration total = Duration.ZERO;
    int at = 0;
    while (parts.find()) {
      if (parts.start() != at) {
        throw invalid(value);
      }
      long n = Long.parseLong(parts.group(1));
      total =
          total.plus(
              switch (parts.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
              });
      at = parts.end();
    }
    if (at == 0 || at != text.length()) {
      throw invalid(value);
    }
    return total;
  }

  private static TypeConversionException invalid(String value) {
    return new TypeConversionException(
        "'" + value + "' is not a duration (e.g. 300, 90s, 5m, 1h30m, PT5M)");
  }
}
