package dev.sbx.orchestrator.grpc;

import static java.util.Objects.requireNonNull;

import dev.sbx.orchestrator.lifecycle.SandboxLifecycle;
import dev.sbx.orchestrator.lifecycle.SandboxNotFoundException;
import dev.sbx.orchestrator.lifecycle.SandboxRequest;
import dev.sbx.orchestrator.network.EgressPolicy;
import dev.sbx.orchestrator.pause.PauseService;
import dev.sbx.orchestrator.runtime.ResourceLimits;
import dev.sbx.proto.orchestrator.CreateSandboxRequest;
import dev.sbx.proto.orchestrator.CreateSnapshotRequest;
import dev.sbx.proto.orchestrator.DeletePausedRequest;
import dev.sbx.proto.orchestrator.DeletePausedResponse;
import dev.sbx.proto.orchestrator.DeleteSandboxRequest;
import dev.sbx.proto.orchestrator.DeleteSandboxResponse;
import dev.sbx.proto.orchestrator.DeleteSnapshotRequest;
import dev.sbx.proto.orchestrator.DeleteSnapshotResponse;
import dev.sbx.proto.orchestrator.ForkResult;
import dev.sbx.proto.orchestrator.ForkSandboxRequest;
import dev.sbx.proto.orchestrator.ForkSandboxResponse;
import dev.sbx.proto.orchestrator.GetSandboxRequest;
import dev.sbx.proto.orchestrator.ListPausedRequest;
import dev.sbx.proto.orchestrator.ListPausedResponse;
import dev.sbx.proto.orchestrator.ListSandboxesRequest;
import dev.sbx.proto.orchestrator.ListSandboxesResponse;
import dev.sbx.proto.orchestrator.ListSnapshotsRequest;
import dev.sbx.proto.orchestrator.ListSnapshotsResponse;
import dev.sbx.proto.orchestrator.PauseSandboxRequest;
import dev.sbx.proto.orchestrator.PausedSandbox;
import dev.sbx.proto.orchestrator.ResumeSandboxRequest;
import dev.sbx.proto.orchestrator.Sandbox;
import dev.sbx.proto.orchestrator.SandboxServiceGrpc;
import dev.sbx.proto.orchestrator.Snapshot;
import dev.sbx.proto.orchestrator.UpdateSandboxRequest;
import io.grpc.stub.StreamObserver;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/** {@code sbx.orchestrator.v1.SandboxService} on a {@link SandboxLifecycle}. */
public final class SandboxGrpcService extends SandboxServiceGrpc.SandboxServiceImplBase {
  private final SandboxLifecycle lifecycle;
  private final PauseService pauses;

  public SandboxGrpcService(SandboxLifecycle lifecycle, PauseService pauses) {
    this.lifecycle = requireNonNull(lifecycle, "lifecycle");
    this.pauses = requireNonNull(pauses, "pauses");
  }

  @Override
  public void create(CreateSandboxRequest request, StreamObserver<Sandbox> response) {
    answer(
        response,
        () -> {
          if (!request.getSnapshotId().isEmpty()) {
            // the snapshot's template and limits; the rest is the request's
            return ProtoMapping.toProto(
                pauses.createFromSnapshot(
                    toRequest(request.toBuilder().setTemplateId("snapshot").build()),
                    request.getSnapshotId()));
          }
          // cpu and memory left at 0 take the template's (its template.json)
          ResourceLimits defaults =
              request.getCpuCount() == 0 || request.getMemoryMb() == 0
                  ? lifecycle.templates().template(request.getTemplateId()).settings().limits()
                  : ResourceLimits.DEFAULT;
          return ProtoMapping.toProto(lifecycle.create(toRequest(request, defaults)));
        });
  }

  static SandboxRequest toRequest(CreateSandboxRequest request) {
    return toRequest(request, ResourceLimits.DEFAULT);
  }

  static SandboxRequest toRequest(CreateSandboxRequest request, ResourceLimits defaults) {
    if (request.getCpuCount() < 0 || request.getMemoryMb() < 0) {
      throw new IllegalArgumentException("cpu_count and memory_mb must not be negative");
    }
    ResourceLimits limits =
        new ResourceLimits(
            request.getCpuCount() == 0 ? defaults.cpuCount() : request.getCpuCount(),
            request.getMemoryMb() == 0 ? defaults.memoryMB() : request.getMemoryMb(),
            defaults.pidsLimit());
    return new SandboxRequest(
        request.getSandboxId(),
        request.getTemplateId(),
        limits,
        new LinkedHashMap<>(request.getEnvVarsMap()),
        request.getMetadataMap(),
        emptyToNull(request.getEnvdAccessToken()),
        emptyToNull(request.getDefaultUser()),
        emptyToNull(request.getDefaultWorkdir()),
        request.hasEndTime() ? ProtoMapping.toInstant(request.getEndTime()) : null,
        request.hasEgress() ? ProtoMapping.toPolicy(request.getEgress()) : EgressPolicy.NONE);
  }

  @Override
  public void get(GetSandboxRequest request, StreamObserver<Sandbox> response) {
    answer(
        response,
        () ->
            ProtoMapping.toProto(
                lifecycle
                    .get(request.getSandboxId())
                    .orElseThrow(() -> new SandboxNotFoundException(request.getSandboxId()))));
  }

  @Override
  public void list(ListSandboxesRequest request, StreamObserver<ListSandboxesResponse> response) {
    answer(
        response,
        () ->
            ListSandboxesResponse.newBuilder()
                .addAllSandboxes(
                    lifecycle.list().stream()
                        .sorted(
                            Comparator.comparing(dev.sbx.orchestrator.lifecycle.Sandbox::sandboxId))
                        .map(ProtoMapping::toProto)
                        .toList())
                .build());
  }

  @Override
  public void delete(DeleteSandboxRequest request, StreamObserver<DeleteSandboxResponse> response) {
    answer(
        response,
        () -> {
          lifecycle.delete(request.getSandboxId());
          return DeleteSandboxResponse.getDefaultInstance();
        });
  }

  @Override
  public void update(UpdateSandboxRequest request, StreamObserver<Sandbox> response) {
    answer(
        response,
        () -> {
          String id = request.getSandboxId();
          EgressPolicy egress =
              request.hasEgress() ? ProtoMapping.toPolicy(request.getEgress()) : null;
          var sandbox = lifecycle.get(id).orElseThrow(() -> new SandboxNotFoundException(id));
          if (request.hasEndTime()) {
            sandbox = lifecycle.updateEndTime(id, ProtoMapping.toInstant(request.getEndTime()));
          }
          if (egress != null) {
            sandbox = lifecycle.updateEgress(id, egress);
          }
          return ProtoMapping.toProto(sandbox);
        });
  }

  // ---- pause, resume, snapshots, fork ----

  @Override
  public void pause(PauseSandboxRequest request, StreamObserver<PausedSandbox> response) {
    answer(
        response,
        () -> PauseMapping.toPaused(pauses.pause(request.getSandboxId(), request.getMemory())));
  }

  @Override
  public void resume(ResumeSandboxRequest request, StreamObserver<Sandbox> response) {
    answer(
        response,
        () ->
            ProtoMapping.toProto(
                pauses.resume(
                    request.getSandboxId(),
                    request.hasEndTime() ? ProtoMapping.toInstant(request.getEndTime()) : null,
                    emptyToNull(request.getEnvdAccessToken()))));
  }

  @Override
  public void listPaused(ListPausedRequest request, StreamObserver<ListPausedResponse> response) {
    answer(
        response,
        () ->
            ListPausedResponse.newBuilder()
                .addAllSandboxes(pauses.listPaused().stream().map(PauseMapping::toPaused).toList())
                .build());
  }

  @Override
  public void deletePaused(
      DeletePausedRequest request, StreamObserver<DeletePausedResponse> response) {
    answer(
        response,
        () -> {
          pauses.deletePaused(request.getSandboxId());
          return DeletePausedResponse.getDefaultInstance();
        });
  }

  @Override
  public void createSnapshot(CreateSnapshotRequest request, StreamObserver<Snapshot> response) {
    answer(
        response,
        () ->
            PauseMapping.toSnapshot(
                pauses.createSnapshot(request.getSandboxId(), request.getSnapshotId())));
  }

  @Override
  public void listSnapshots(
      ListSnapshotsRequest request, StreamObserver<ListSnapshotsResponse> response) {
    answer(
        response,
        () ->
            ListSnapshotsResponse.newBuilder()
                .addAllSnapshots(
                    pauses.listSnapshots().stream().map(PauseMapping::toSnapshot).toList())
                .build());
  }

  @Override
  public void deleteSnapshot(
      DeleteSnapshotRequest request, StreamObserver<DeleteSnapshotResponse> response) {
    answer(
        response,
        () -> {
          pauses.deleteSnapshot(request.getSnapshotId());
          return DeleteSnapshotResponse.getDefaultInstance();
        });
  }

  @Override
  public void fork(ForkSandboxRequest request, StreamObserver<ForkSandboxResponse> response) {
    answer(
        response,
        () -> {
          java.util.List<SandboxRequest> children = new java.util.ArrayList<>();
          for (CreateSandboxRequest child : request.getChildrenList()) {
            children.add(toRequest(child.toBuilder().setTemplateId("fork").build()));
          }
          ForkSandboxResponse.Builder answer = ForkSandboxResponse.newBuilder();
          for (PauseService.ForkResult result : pauses.fork(request.getSandboxId(), children)) {
            ForkResult.Builder one = ForkResult.newBuilder();
            var sandbox = result.sandbox();
            RuntimeException error = result.error();
            if (sandbox != null) {
              one.setSandbox(ProtoMapping.toProto(sandbox));
            } else if (error != null) {
              var status = StatusMapping.toStatus(error).getStatus();
              one.setErrorCode(status.getCode().value())
                  .setErrorMessage(String.valueOf(status.getDescription()));
            }
            answer.addResults(one);
          }
          return answer.build();
        });
  }

  private static @Nullable String emptyToNull(String value) {
    return value.isEmpty() ? null : value;
  }

  /** Runs {@code call} and sends its result, or the status its exception maps to. */
  static <T> void answer(StreamObserver<T> response, Supplier<T> call) {
    T result;
    try {
      result = call.get();
    } catch (RuntimeException e) {
      response.onError(StatusMapping.toStatus(e));
      return;
    }
    response.onNext(result);
    response.onCompleted();
  }
}
