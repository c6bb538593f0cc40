/**
 * The catalog: which node runs which sandbox. The API server writes it when a sandbox starts, stops
 * or pauses; the client proxy reads it on every request and never asks the database.
 */
@NullMarked
package dev.sbx.proxy.catalog;

import org.jspecify.annotations.NullMarked;
