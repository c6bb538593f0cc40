/**
 * The orchestrator's gRPC API ({@code sbx.orchestrator.v1}, {@code proto/orchestrator}): {@link
 * dev.sbx.orchestrator.grpc.SandboxGrpcService} and {@link
 * dev.sbx.orchestrator.grpc.NodeGrpcService} translate requests into {@link
 * dev.sbx.orchestrator.lifecycle.SandboxLifecycle} calls and its exceptions into gRPC status codes.
 */
@NullMarked
package dev.sbx.orchestrator.grpc;

import org.jspecify.annotations.NullMarked;
