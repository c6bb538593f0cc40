/**
 * E2B's sandbox endpoints: create, connect, list, get, kill, timeouts, metrics, logs; the sandbox
 * lifecycle and the evictor.
 */
@NullMarked
package dev.sbx.api.sandbox;

import org.jspecify.annotations.NullMarked;
