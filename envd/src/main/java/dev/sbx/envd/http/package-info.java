/**
 * envd's plain HTTP surface, wire-compatible with E2B's envd: one front handler ({@link
 * dev.sbx.envd.http.EnvdRouter}) that answers CORS preflights, checks the access token and routes
 * to {@code /health}, {@code /envs}, {@code /metrics}, {@code /init}, the file routes and the
 * Connect RPC services; errors are E2B's JSON {@code {"code":N,"message":"..."}}.
 */
@NullMarked
package dev.sbx.envd.http;

import org.jspecify.annotations.NullMarked;
