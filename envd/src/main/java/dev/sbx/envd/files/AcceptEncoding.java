package dev.sbx.envd.files;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The content coding of a download, chosen from {@code Accept-Encoding} as E2B's envd does: the
 * listed codings by falling quality (gzip first among equals); the first of {@code gzip}, {@code
 * identity} or {@code *} with a quality above 0 wins ({@code *} means identity unless identity is
 * refused). Unlisted identity is the fallback unless refused by {@code identity;q=0} or, as RFC
 * 9110 has it, by {@code *;q=0} without identity listed; then nothing is acceptable (a 406).
 */
enum AcceptEncoding {
  IDENTITY,
  GZIP,
  NONE_ACCEPTABLE;

  private record Coding(String name, double quality) {}

  static AcceptEncoding choose(@Nullable String header) {
    if (header == null || header.isBlank()) {
      return IDENTITY;
    }
    List<Coding> codings = new ArrayList<>();
    for (String item : header.split(",")) {
      String[] fields = item.split(";");
      String name = fields[0].trim().toLowerCase(Locale.ROOT);
      if (name.isEmpty()) {
        continue;
      }
      double quality = 1;
      for (int i = 1; i < fields.length; i++) {
        String param = fields[i].trim();
        if (param.toLowerCase(Locale.ROOT).startsWith("q=")) {
          try {
            quality = Double.parseDouble(param.substring(2).trim());
          } catch (NumberFormatException e) {
            quality = 1;
          }
        }
      }
      codings.add(new Coding(name.equals("x-gzip") ? "gzip" : name, quality));
    }
    boolean identityListed = codings.stream().anyMatch(c -> c.name().equals("identity"));
    boolean identityRefused =
        codings.stream()
            .anyMatch(
                c ->
                    c.quality() <= 0
                        && (c.name().equals("identity")
                            || (c.name().equals("*") && !identityListed)));
    codings.sort(
        Comparator.comparingDouble(Coding::quality)
            .reversed()
            .thenComparing(c -> !c.name().equals("gzip")));
    for (Coding coding : codings) {
      if (coding.quality() <= 0) {
        continue;
      }
      switch (coding.name()) {
        case "gzip" -> {
          return GZIP;
        }
        case "identity" -> {
          return IDENTITY;
        }
        case "*" -> {
          return identityRefused ? GZIP : IDENTITY;
        }
        default -> {
          // a coding envd does not produce
        }
      }
    }
    return identityRefused ? NONE_ACCEPTABLE : IDENTITY;
  }
}
