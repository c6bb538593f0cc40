package dev.sbx.proxy.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** {@code maskRequestHost} as a catalog entry applies it. */
class CatalogEntryTest {

  private static CatalogEntry withMask(String mask) {
    return new CatalogEntry(
        "sbx1", "n1", "127.0.0.1", 5007, null, CatalogEntry.RouteState.RUNNING, null, mask);
  }

  @Test
  void portPlaceholderIsReplacedEverywhere() {
    assertThat(withMask("masked.example:${PORT}").maskedHost(8000))
        .isEqualTo("masked.example:8000");
    assertThat(withMask("p${PORT}.example:${PORT}").maskedHost(3000))
        .isEqualTo("p3000.example:3000");
    assertThat(withMask("fixed.example").maskedHost(3000)).isEqualTo("fixed.example");
  }

  @Test
  void envdsPortIsNeverMasked() {
    assertThat(withMask("masked.example").maskedHost(49983)).isNull();
  }

  @Test
  void noMaskMeansNoMaskedHost() {
    CatalogEntry plain =
        new CatalogEntry("sbx1", "n1", "127.0.0.1", 5007, null, CatalogEntry.RouteState.RUNNING);
    assertThat(plain.maskRequestHost()).isNull();
    assertThat(plain.maskedHost(8000)).isNull();
  }

  @Test
  void emptyMaskIsRefused() {
    assertThatThrownBy(() -> withMask("")).isInstanceOf(IllegalArgumentException.class);
  }
}
