/**
 * The forwarding engine both sandbox proxies are built on: a Vert.x HTTP server that maps each
 * request to a sandbox ({@link dev.sbx.proxy.routing.SandboxTarget}), refuses envd's control
 * routes, asks a {@link dev.sbx.proxy.forward.Router} where the request goes, and streams it there
 * with keep-alive pooling, back-pressured bodies, WebSocket/upgrade tunnels and dial retries; every
 * finished exchange is reported to an {@link dev.sbx.proxy.forward.ExchangeListener}.
 */
@NullMarked
package dev.sbx.proxy.forward;

import org.jspecify.annotations.NullMarked;
