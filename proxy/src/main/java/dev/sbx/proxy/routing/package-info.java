/**
 * How sandbox traffic is addressed, shared by the client proxy and the node proxy: the E2B wire
 * protocol's mapping of a request to a sandbox and port ({@link
 * dev.sbx.proxy.routing.SandboxTarget}, §3.1), envd's control routes that no proxy lets through
 * ({@link dev.sbx.proxy.routing.EnvdControlRoutes}) and the error bodies the proxies answer with
 * themselves ({@link dev.sbx.proxy.routing.ProxyError}, §3.2).
 */
@NullMarked
package dev.sbx.proxy.routing;

import org.jspecify.annotations.NullMarked;
