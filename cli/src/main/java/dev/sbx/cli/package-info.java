/**
 * The {@code sbx} command: {@code sbx up} (API, client proxy and orchestrator in one JVM), each
 * part alone for a cluster, and the operator's commands (keys, templates, doctor).
 */
@NullMarked
package dev.sbx.cli;

import org.jspecify.annotations.NullMarked;
