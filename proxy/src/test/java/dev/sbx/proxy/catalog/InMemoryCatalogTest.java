package dev.sbx.proxy.catalog;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sbx.proxy.catalog.CatalogEntry.RouteState;
import org.junit.jupiter.api.Test;

class InMemoryCatalogTest extends CatalogContractTest {

  @Override
  protected Catalog newCatalog() {
    return new InMemoryCatalog();
  }

  @Test
  void entryRefusesAnImpossiblePort() {
    assertThatThrownBy(() -> new CatalogEntry("sb1", "n", "h", 0, null, RouteState.RUNNING))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new CatalogEntry("sb1", "n", "h", 65536, null, RouteState.RUNNING))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
