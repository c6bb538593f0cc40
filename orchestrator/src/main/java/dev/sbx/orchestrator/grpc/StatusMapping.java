package dev.sbx.orchestrator.grpc;

import dev.sbx.orchestrator.lifecycle.NodeFullException;
import dev.sbx.orchestrator.lifecycle.SandboxExistsException;
import dev.sbx.orchestrator.lifecycle.SandboxNotFoundException;
import dev.sbx.orchestrator.pause.AlreadyPausedException;
import dev.sbx.orchestrator.pause.SavedStateNotFoundException;
import dev.sbx.orchestrator.pause.SavedStateQuotaException;
import dev.sbx.orchestrator.pause.SnapshotExistsException;
import dev.sbx.orchestrator.template.UnknownTemplateException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** Which gRPC status a failure of the lifecycle is. */
final class StatusMapping {
  private static final System.Logger LOG = System.getLogger(StatusMapping.class.getName());

  private StatusMapping() {}

  static StatusRuntimeException toStatus(RuntimeException e) {
    Status status =
        switch (e) {
          case StatusRuntimeException already -> already.getStatus();
          case SandboxNotFoundException notFound -> Status.NOT_FOUND;
          case SandboxExistsException exists -> Status.ALREADY_EXISTS;
          case NodeFullException full -> Status.RESOURCE_EXHAUSTED;
          case UnknownTemplateException unknown -> Status.FAILED_PRECONDITION;
          case AlreadyPausedException paused -> Status.FAILED_PRECONDITION;
          case SavedStateQuotaException quota -> Status.RESOURCE_EXHAUSTED;
          case SavedStateNotFoundException missing -> Status.NOT_FOUND;
          case SnapshotExistsException exists -> Status.ALREADY_EXISTS;
          case IllegalArgumentException invalid -> Status.INVALID_ARGUMENT;
          case IllegalStateException state -> Status.UNAVAILABLE;
          default -> {
            LOG.log(System.Logger.Level.WARNING, "request failed", e);
            yield Status.INTERNAL;
          }
        };
    return status.withDescription(e.getMessage()).asRuntimeException();
  }
}
