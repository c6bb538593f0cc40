package dev.sbx.proxy.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sbx.proxy.catalog.CatalogEntry.RouteState;
import org.junit.jupiter.api.Test;

class InMemoryCatalogTest {

  private final InMemoryCatalog catalog = new InMemoryCatalog();

  @Test
  void putFindReplaceRemove() {
    var entry = new CatalogEntry("sb1", "node-a", "10.0.0.1", 5007, null, RouteState.RUNNING);
    assertThat(catalog.find("sb1").toCompletableFuture().join()).isEmpty();

    catalog.put(entry);
    assertThat(catalog.find("sb1").toCompletableFuture().join()).contains(entry);

    var paused = new CatalogEntry("sb1", "node-a", "10.0.0.1", 5007, "tok", RouteState.PAUSED);
    catalog.put(paused);
    assertThat(catalog.find("sb1").toCompletableFuture().join()).contains(paused);

    catalog.remove("sb1");
    catalog.remove("never-there");
    assertThat(catalog.find("sb1").toCompletableFuture().join()).isEmpty();
  }

  @Test
  void entryRefusesAnImpossiblePort() {
    assertThatThrownBy(() -> new CatalogEntry("sb1", "n", "h", 0, null, RouteState.RUNNING))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
