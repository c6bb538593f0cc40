/**
 * Pause and resume, snapshots and fork on one node: {@link dev.sbx.orchestrator.pause.PauseService}
 * checkpoints a running sandbox (memory and processes where the runtime can, always its rootfs
 * changes) into {@link dev.sbx.orchestrator.pause.SavedStateStore}, the node's saved state on disk
 * (one directory per paused sandbox or snapshot, its record written atomically last), and starts
 * sandboxes again from it through the lifecycle's hooks.
 */
@NullMarked
package dev.sbx.orchestrator.pause;

import org.jspecify.annotations.NullMarked;
