/**
 * The sandbox lifecycle on one node: {@link dev.sbx.orchestrator.lifecycle.SandboxLifecycle}
 * creates a sandbox (network slot, container from a template, envd healthy and initialised), keeps
 * the node's sandboxes in memory, updates their end time and egress, deletes them (also when their
 * end time has passed), and removes everything it made when a step fails.
 */
@NullMarked
package dev.sbx.orchestrator.lifecycle;

import org.jspecify.annotations.NullMarked;
