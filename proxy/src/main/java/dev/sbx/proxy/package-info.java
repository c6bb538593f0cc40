/**
 * The client proxy (:3002), the edge of the data plane: maps each request to a sandbox (E2B wire
 * protocol §3.1), finds the node that runs it in the {@link dev.sbx.proxy.catalog.Catalog} and
 * streams the request to that node's proxy (§3.2 step 1), answering E2B's error bodies itself; it
 * serves {@code /health} and Prometheus {@code /metrics} on a second port and writes one access-log
 * line per request.
 */
@NullMarked
package dev.sbx.proxy;

import org.jspecify.annotations.NullMarked;
