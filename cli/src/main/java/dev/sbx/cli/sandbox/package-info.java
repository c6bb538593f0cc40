/**
 * {@code sbx sandbox …}: sandboxes of any E2B-compatible API (sbx or E2B itself) through the Java
 * SDK, configured like E2B's SDKs ({@code E2B_API_KEY}, {@code E2B_API_URL}, {@code
 * E2B_SANDBOX_URL}, {@code E2B_DOMAIN}) or flags.
 */
@NullMarked
package dev.sbx.cli.sandbox;

import org.jspecify.annotations.NullMarked;
