/**
 * HTTP plumbing of the API server: E2B's error bodies, JSON bodies checked field by field, replies,
 * routing onto virtual threads.
 */
@NullMarked
package dev.sbx.api.http;

import org.jspecify.annotations.NullMarked;
