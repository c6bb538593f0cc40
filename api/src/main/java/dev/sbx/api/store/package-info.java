/**
 * The API server's database: the {@link dev.sbx.api.store.Store} SPI and its SQLite and PostgreSQL
 * implementations, whose schema Flyway migrates ({@code db/migration/<dialect>}).
 */
@NullMarked
package dev.sbx.api.store;

import org.jspecify.annotations.NullMarked;
