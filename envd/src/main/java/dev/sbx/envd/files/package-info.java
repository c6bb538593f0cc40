/**
 * envd's file transfer over plain HTTP, wire-compatible with E2B's envd: {@code GET /files} streams
 * a file (ranges, gzip, conditional requests) and {@code POST /files} writes files from a streamed
 * multipart or raw body, owned by the request's user; both accept the access token or a signed URL
 * ({@link dev.sbx.envd.files.UrlSignature}).
 */
@NullMarked
package dev.sbx.envd.files;

import org.jspecify.annotations.NullMarked;
