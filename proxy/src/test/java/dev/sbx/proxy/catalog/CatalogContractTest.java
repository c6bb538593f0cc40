package dev.sbx.proxy.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sbx.proxy.catalog.CatalogEntry.RouteState;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Catalog} does, whatever stores it. An implementation's test extends this class
 * and says how to make a fresh, empty catalog; it adds tests of its own for what only it does.
 */
public abstract class CatalogContractTest {

  private Catalog catalog;

  /** A new catalog that holds no entry yet; closed after each test. */
  protected abstract Catalog newCatalog() throws Exception;

  @BeforeEach
  void openCatalog() throws Exception {
    catalog = newCatalog();
  }

  @AfterEach
  void closeCatalog() {
    catalog.close();
  }

  protected static Optional<CatalogEntry> find(Catalog catalog, String sandboxId) {
    return catalog.find(sandboxId).toCompletableFuture().join();
  }

  @Test
  void anUnknownSandboxIsAbsent() {
    assertThat(find(catalog, "never-there")).isEmpty();
  }

  @Test
  void entriesListsEverySandboxWithItsEnvdToken() throws Exception {
    var first =
        new CatalogEntry("sb1", "node-a", "10.0.0.1", 5007, null, RouteState.RUNNING, "envd-1");
    var second = new CatalogEntry("sb2", "node-b", "10.0.0.2", 5007, "t", RouteState.PAUSED);
    catalog.put(first);
    catalog.put(second);
    assertThat(catalog.entries().toCompletableFuture().get(10, TimeUnit.SECONDS))
        .containsExactlyInAnyOrder(first, second);
    catalog.remove("sb1");
    assertThat(catalog.entries().toCompletableFuture().get(10, TimeUnit.SECONDS))
        .containsExactly(second);
    assertThat(find(catalog, "sb2").orElseThrow().envdAccessToken()).isNull();
  }

  @Test
  void putThenFind() {
    var entry = new CatalogEntry("sb1", "node-a", "10.0.0.1", 5007, "token-1", RouteState.RUNNING);
    catalog.put(entry);
    assertThat(find(catalog, "sb1")).contains(entry);
  }

  @Test
  void aPutAfterAFindOfTheSameIdIsSeenAtOnce() {
    assertThat(find(catalog, "sb1")).isEmpty();
    var entry = new CatalogEntry("sb1", "node-a", "10.0.0.1", 5007, null, RouteState.RUNNING);
    catalog.put(entry);
    assertThat(find(catalog, "sb1")).contains(entry);
  }

  @Test
  void aPutReplacesTheWholeEntry() {
    catalog.put(new CatalogEntry("sb1", "node-a", "10.0.0.1", 5007, "secret", RouteState.RUNNING));
    assertThat(find(catalog, "sb1")).isPresent();

    var moved = new CatalogEntry("sb1", "node-b", "[fd00::2]", 15007, null, RouteState.PAUSED);
    catalog.put(moved);
    assertThat(find(catalog, "sb1")).contains(moved);
  }

  @Test
  void everyRouteStateAndTokenRoundTrips() {
    for (RouteState state : RouteState.values()) {
      for (String token : new String[] {null, "", "tok with spaces & ünïcode"}) {
        var entry = new CatalogEntry("sb-" + state, "n", "h.example", 65535, token, state);
        catalog.put(entry);
        assertThat(find(catalog, entry.sandboxId())).contains(entry);
      }
    }
  }

  @Test
  void maskRequestHostRoundTripsAndAPutWithoutItClearsIt() {
    var masked =
        new CatalogEntry(
            "sb1", "node-a", "10.0.0.1", 5007, null, RouteState.RUNNING, "e", "m.example:${PORT}");
    catalog.put(masked);
    assertThat(find(catalog, "sb1")).contains(masked);
    assertThat(find(catalog, "sb1").orElseThrow().maskRequestHost()).isEqualTo("m.example:${PORT}");

    var plain = new CatalogEntry("sb1", "node-a", "10.0.0.1", 5007, null, RouteState.PAUSED, "e");
    catalog.put(plain);
    assertThat(find(catalog, "sb1").orElseThrow().maskRequestHost()).isNull();
  }

  @Test
  void removeForgetsAndUnknownIdsAreFine() {
    catalog.put(new CatalogEntry("sb1", "node-a", "10.0.0.1", 5007, null, RouteState.RUNNING));
    assertThat(find(catalog, "sb1")).isPresent();
    catalog.remove("sb1");
    assertThat(find(catalog, "sb1")).isEmpty();
    catalog.remove("sb1");
    catalog.remove("never-there");
    assertThat(find(catalog, "never-there")).isEmpty();
  }

  @Test
  void entriesAreIndependentWhateverTheirIds() {
    List<String> ids = List.of("a", "a:b", "a:b:c", "with space", "x*?[]", "ü✓", "A");
    for (String id : ids) {
      catalog.put(new CatalogEntry(id, "node-" + id, "h", 1, id, RouteState.RUNNING));
    }
    catalog.remove("a:b");
    for (String id : ids) {
      if (id.equals("a:b")) {
        assertThat(find(catalog, id)).isEmpty();
      } else {
        assertThat(find(catalog, id))
            .contains(new CatalogEntry(id, "node-" + id, "h", 1, id, RouteState.RUNNING));
      }
    }
  }

  @Test
  void manyFindsInFlightAllAnswer() {
    for (int i = 0; i < 20; i++) {
      catalog.put(new CatalogEntry("sb" + i, "n" + i, "h", 5007, null, RouteState.RUNNING));
    }
    List<CompletableFuture<Optional<CatalogEntry>>> finds = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      finds.add(catalog.find("sb" + (i % 25)).toCompletableFuture());
    }
    for (int i = 0; i < finds.size(); i++) {
      Optional<CatalogEntry> found = finds.get(i).join();
      int n = i % 25;
      if (n < 20) {
        assertThat(found).map(CatalogEntry::nodeId).contains("n" + n);
      } else {
        assertThat(found).isEmpty();
      }
    }
  }
}
