/**
 * The sbx Java SDK: E2B's SDK surface in Java. {@link dev.sbx.sdk.Sandbox} creates, connects to,
 * lists and kills sandboxes through the control-plane API and gives access to a sandbox's {@link
 * dev.sbx.sdk.Sandbox#commands() commands}, {@link dev.sbx.sdk.Sandbox#pty() PTYs} and {@link
 * dev.sbx.sdk.Sandbox#files() files} through its envd. {@link dev.sbx.sdk.ConnectionConfig} reads
 * the same environment variables as E2B's SDKs ({@code E2B_API_KEY}, {@code E2B_DOMAIN}, {@code
 * E2B_API_URL}, {@code E2B_SANDBOX_URL}, {@code E2B_DEBUG}). Every failure is an unchecked {@link
 * dev.sbx.sdk.SandboxException}.
 */
@NullMarked
package dev.sbx.sdk;

import org.jspecify.annotations.NullMarked;
