/**
 * The orchestrators the API places sandboxes on: their gRPC channels, health checks, reconciliation
 * and placement.
 */
@NullMarked
package dev.sbx.api.node;

import org.jspecify.annotations.NullMarked;
