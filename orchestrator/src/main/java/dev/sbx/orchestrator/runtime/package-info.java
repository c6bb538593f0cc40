/**
 * The {@link dev.sbx.orchestrator.runtime.SandboxRuntime} SPI: what the orchestrator asks of an OCI
 * runtime (create a sandbox from a {@link dev.sbx.orchestrator.runtime.SandboxSpec}, report its
 * state, change its limits, list what it owns for crash recovery, remove it without a trace), and
 * {@link dev.sbx.orchestrator.runtime.RuncRuntime}, the implementation on the {@code runc} CLI with
 * an overlayfs rootfs, envd's directory bind-mounted read-only at {@code /opt/sbx} and cgroup
 * limits.
 */
@NullMarked
package dev.sbx.orchestrator.runtime;

import org.jspecify.annotations.NullMarked;
