/**
 * The orchestrator process: {@link dev.sbx.orchestrator.Orchestrator} wires the network slot pool,
 * the runc runtime, the sandbox lifecycle and the gRPC server from an {@link
 * dev.sbx.orchestrator.OrchestratorConfig}, and takes them down again in reverse order.
 */
@NullMarked
package dev.sbx.orchestrator;

import org.jspecify.annotations.NullMarked;
