/**
 * sbx's API server: E2B's REST control plane ({@link dev.sbx.api.ApiServer}) in front of the
 * orchestrators of the configured nodes, with teams, API keys, quotas and a database.
 */
@NullMarked
package dev.sbx.api;

import org.jspecify.annotations.NullMarked;
