/**
 * The SDK's implementation: the API client, the envd transport (Connect and plain HTTP), and the
 * implementations of the commands, PTY and filesystem interfaces. Not API: it may change at any
 * time; use {@link dev.sbx.sdk.Sandbox} and the interfaces it returns.
 */
@NullMarked
package dev.sbx.sdk.internal;

import org.jspecify.annotations.NullMarked;
