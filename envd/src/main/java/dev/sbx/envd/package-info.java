/**
 * envd, the daemon inside every sandbox (port 49983): E2B's process and filesystem services over
 * Connect RPC, plus its plain HTTP routes ({@code /health}, {@code /files}, {@code /envs}, {@code
 * /metrics}, {@code /init}). {@link dev.sbx.envd.Envd} is the entry point.
 */
@NullMarked
package dev.sbx.envd;

import org.jspecify.annotations.NullMarked;
