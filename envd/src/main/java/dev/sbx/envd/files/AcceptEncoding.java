package dev.sbx.envd.files;

import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The content coding of a download, chosen from {@code Accept-Encoding} as E2B's envd does: gzip
 * when it is acceptable and not less preferred than identity; identity when it is acceptable
 * (always, unless {@code identity;q=0}, or {@code *;q=0} without identity named); otherwise nothing
 * is acceptable (a 406).
 */
enum AcceptEncoding {
  IDENTITY,
  GZIP,
  NONE_ACCEPTABLE;

  static AcceptEncoding choose(@Nullable String header) {
    if (header == null || header.isBlank()) {
      return IDENTITY;
    }
    double gzip = -1;
    double identity = -1;
    double any = -1;
    for (String item : header.split(",")) {
      String[] fields = item.split(";");
      String coding = fields[0].trim().toLowerCase(Locale.ROOT);
      if (coding.isEmpty()) {
        continue;
      }
      double q = 1;
      for (int i = 1; i < fields.length; i++) {
        String param = fields[i].trim();
        if (param.toLowerCase(Locale.ROOT).startsWith("q=")) {
          try {
            q = Double.parseDouble(param.substring(2).trim());
          } catch (NumberFormatException e) {
            q = 1;
          }
        }
      }
      switch (coding) {
        case "gzip", "x-gzip" -> gzip = Math.max(gzip, q);
        case "identity" -> identity = Math.max(identity, q);
        case "*" -> any = Math.max(any, q);
        default -> {
          // a coding envd does not produce
        }
      }
    }
    double gzipQuality = gzip >= 0 ? gzip : any >= 0 ? any : 0;
    double identityQuality = identity >= 0 ? identity : any == 0 ? 0 : 1;
    if (gzip < 0 && any > 0 && identityQuality > 0) {
      gzipQuality = 0; // "*" alone does not ask for gzip while identity is still welcome
    }
    if (gzipQuality > 0 && gzipQuality >= identityQuality) {
      return GZIP;
    }
    if (identityQuality > 0) {
      return IDENTITY;
    }
    return gzipQuality > 0 ? GZIP : NONE_ACCEPTABLE;
  }
}
