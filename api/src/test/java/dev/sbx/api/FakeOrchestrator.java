package dev.sbx.api;

import com.google.protobuf.Timestamp;
import com.sun.net.httpserver.HttpServer;
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
import dev.sbx.proto.orchestrator.NodeInfo;
import dev.sbx.proto.orchestrator.NodeInfoRequest;
import dev.sbx.proto.orchestrator.NodeServiceGrpc;
import dev.sbx.proto.orchestrator.PauseSandboxRequest;
import dev.sbx.proto.orchestrator.PausedSandbox;
import dev.sbx.proto.orchestrator.ResumeSandboxRequest;
import dev.sbx.proto.orchestrator.Sandbox;
import dev.sbx.proto.orchestrator.SandboxServiceGrpc;
import dev.sbx.proto.orchestrator.Snapshot;
import dev.sbx.proto.orchestrator.UpdateSandboxRequest;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * A test double of one orchestrator: SandboxService and NodeService in memory over in-process gRPC,
 * and a node proxy that answers envd's {@code /metrics} and {@code /_sbx/logs} for the sandboxes it
 * runs. Pause moves a sandbox (its create request stands for its memory and files) into the paused
 * set and resume back, as the real node does; snapshots and fork copy it. Knobs make calls fail or
 * wait.
 */
final class FakeOrchestrator implements AutoCloseable {
  final String name;
  final Map<String, CreateSandboxRequest> sandboxes = new ConcurrentHashMap<>();

  /** Paused sandboxes: what they were created with, and what the pause reported. */
  final Map<String, CreateSandboxRequest> pausedRequests = new ConcurrentHashMap<>();

  final Map<String, PausedSandbox> paused = new ConcurrentHashMap<>();
  final Map<String, CreateSandboxRequest> snapshotRequests = new ConcurrentHashMap<>();
  final Map<String, Snapshot> snapshots = new ConcurrentHashMap<>();
  final AtomicReference<@Nullable Status> createFailure = new AtomicReference<>();
  final AtomicReference<@Nullable Status> pauseFailure = new AtomicReference<>();
  final AtomicReference<@Nullable Status> resumeFailure = new AtomicReference<>();

  /** When set, CreateSnapshot and Fork fail with it (a node out of room, a node gone). */
  final AtomicReference<@Nullable Status> snapshotFailure = new AtomicReference<>();

  final AtomicReference<@Nullable Status> forkFailure = new AtomicReference<>();

  /** Fork children at these positions fail with RESOURCE_EXHAUSTED. */
  final java.util.Set<Integer> failingForkChildren = ConcurrentHashMap.newKeySet();

  /** When set, Pause and Resume wait for it (a test holds a transition open). */
  final AtomicReference<@Nullable CountDownLatch> transitionGate = new AtomicReference<>();

  final AtomicInteger pauses = new AtomicInteger();
  final AtomicInteger resumes = new AtomicInteger();
  final AtomicInteger deletedPaused = new AtomicInteger();

  /** Whether this node's runtime can keep memory (false: a files-only pause, as said). */
  volatile boolean checkpoints = true;

  volatile @Nullable ResumeSandboxRequest lastResume;
  volatile boolean down;
  volatile int maxSandboxes = 100;
  volatile List<String> templates = List.of("base");
  private final Server server;
  private final HttpServer proxy;
  volatile @Nullable String lastMetricsToken;

  /** What the node proxy answers for envd's {@code /metrics} of a known sandbox. */
  volatile int metricsStatus = 200;

  /** envd's {@code /_sbx/logs} answer body for a known sandbox, or its status when not 200. */
  volatile String envdLogs = "{\"logs\":[]}";

  volatile int envdLogsStatus = 200;
  volatile @Nullable String lastLogsToken;

  FakeOrchestrator(String name) throws IOException {
    this.name = name;
    this.server =
        InProcessServerBuilder.forName(name)
            .directExecutor()
            .addService(new Sandboxes())
            .addService(new Node())
            .build()
            .start();
    this.proxy = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    proxy.createContext(
        "/metrics",
        exchange -> {
          String id = exchange.getRequestHeaders().getFirst("E2b-Sandbox-Id");
          lastMetricsToken = exchange.getRequestHeaders().getFirst("X-Access-Token");
          byte[] body;
          int status;
          if (id != null && sandboxes.containsKey(id) && metricsStatus != 200) {
            status = metricsStatus;
            body = "{\"code\":500,\"message\":\"envd failed\"}".getBytes(StandardCharsets.UTF_8);
          } else if (id != null && sandboxes.containsKey(id)) {
            status = 200;
            body =
                ("{\"ts\":"
                        + (System.currentTimeMillis() / 1000)
                        + ",\"cpu_count\":2,\"cpu_used_pct\":12.5,\"mem_total\":536870912,"
                        + "\"mem_used\":1048576,\"mem_cache\":4096,\"mem_total_mib\":512,"
                        + "\"mem_used_mib\":1,\"disk_used\":2048,\"disk_total\":1073741824}")
                    .getBytes(StandardCharsets.UTF_8);
          } else {
            status = 502;
            body =
                "{\"code\":502,\"message\":\"sandbox not found\"}".getBytes(StandardCharsets.UTF_8);
          }
          exchange.sendResponseHeaders(status, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    proxy.createContext(
        "/_sbx/logs",
        exchange -> {
          String id = exchange.getRequestHeaders().getFirst("E2b-Sandbox-Id");
          lastLogsToken = exchange.getRequestHeaders().getFirst("X-Access-Token");
          boolean known = id != null && sandboxes.containsKey(id);
          int status = known ? envdLogsStatus : 502;
          byte[] body =
              (status == 200 ? envdLogs : "{\"code\":" + status + ",\"message\":\"no\"}")
                  .getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(status, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    proxy.start();
  }

  int proxyPort() {
    return proxy.getAddress().getPort();
  }

  ManagedChannel channel() {
    return InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  private Sandbox toSandbox(CreateSandboxRequest r) {
    return Sandbox.newBuilder()
        .setSandboxId(r.getSandboxId())
        .setTemplateId(r.getTemplateId())
        .setAddress("10.11.0.2")
        .setEnvdPort(49983)
        .setCpuCount(r.getCpuCount())
        .setMemoryMb(r.getMemoryMb())
        .putAllMetadata(r.getMetadataMap())
        .setEndTime(r.getEndTime())
        .setEgress(r.getEgress())
        .build();
  }

  private static Timestamp now() {
    Instant now = Instant.now();
    return Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano()).build();
  }

  private void awaitGate() {
    CountDownLatch gate = transitionGate.get();
    if (gate != null) {
      try {
        gate.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static <T> void answer(StreamObserver<T> response, T value) {
    response.onNext(value);
    response.onCompleted();
  }

  private static <T> void fail(StreamObserver<T> response, Status status) {
    response.onError(status.asRuntimeException());
  }

  private final class Sandboxes extends SandboxServiceGrpc.SandboxServiceImplBase {
    @Override
    public void create(CreateSandboxRequest request, StreamObserver<Sandbox> response) {
      Status failure = createFailure.get();
      if (!request.getSnapshotId().isEmpty()) {
        CreateSandboxRequest from = snapshotRequests.get(request.getSnapshotId());
        if (from == null) {
          fail(response, Status.NOT_FOUND.withDescription("no such snapshot"));
          return;
        }
        // the snapshot's files and memory (its metadata stands for them here), the new identity
        CreateSandboxRequest started =
            request.toBuilder()
                .setTemplateId(from.getTemplateId())
                .putAllEnvVars(from.getEnvVarsMap())
                .putMetadata("fromSnapshot", request.getSnapshotId())
                .build();
        sandboxes.put(request.getSandboxId(), started);
        answer(response, toSandbox(started));
        return;
      }
      if (down) {
        response.onError(Status.UNAVAILABLE.withDescription("down").asRuntimeException());
      } else if (failure != null) {
        response.onError(failure.asRuntimeException());
      } else if (!templates.contains(request.getTemplateId())) {
        response.onError(
            Status.FAILED_PRECONDITION.withDescription("unknown template").asRuntimeException());
      } else if (sandboxes.size() >= maxSandboxes) {
        response.onError(Status.RESOURCE_EXHAUSTED.withDescription("full").asRuntimeException());
      } else {
        sandboxes.put(request.getSandboxId(), request);
        response.onNext(toSandbox(request));
        response.onCompleted();
      }
    }

    @Override
    public void get(GetSandboxRequest request, StreamObserver<Sandbox> response) {
      CreateSandboxRequest r = sandboxes.get(request.getSandboxId());
      if (r == null) {
        response.onError(Status.NOT_FOUND.asRuntimeException());
        return;
      }
      response.onNext(toSandbox(r));
      response.onCompleted();
    }

    @Override
    public void list(ListSandboxesRequest request, StreamObserver<ListSandboxesResponse> response) {
      if (down) {
        response.onError(Status.UNAVAILABLE.withDescription("down").asRuntimeException());
        return;
      }
      ListSandboxesResponse.Builder list = ListSandboxesResponse.newBuilder();
      sandboxes.values().forEach(r -> list.addSandboxes(toSandbox(r)));
      response.onNext(list.build());
      response.onCompleted();
    }

    @Override
    public void delete(
        DeleteSandboxRequest request, StreamObserver<DeleteSandboxResponse> response) {
      if (sandboxes.remove(request.getSandboxId()) == null) {
        response.onError(Status.NOT_FOUND.asRuntimeException());
        return;
      }
      response.onNext(DeleteSandboxResponse.getDefaultInstance());
      response.onCompleted();
    }

    @Override
    public void update(UpdateSandboxRequest request, StreamObserver<Sandbox> response) {
      CreateSandboxRequest r = sandboxes.get(request.getSandboxId());
      if (r == null) {
        response.onError(Status.NOT_FOUND.asRuntimeException());
        return;
      }
      CreateSandboxRequest updated = r.toBuilder().setEndTime(request.getEndTime()).build();
      sandboxes.put(request.getSandboxId(), updated);
      response.onNext(toSandbox(updated));
      response.onCompleted();
    }

    @Override
    public void pause(PauseSandboxRequest request, StreamObserver<PausedSandbox> response) {
      pauses.incrementAndGet();
      awaitGate();
      String id = request.getSandboxId();
      Status failure = pauseFailure.get();
      if (paused.containsKey(id)) {
        fail(response, Status.FAILED_PRECONDITION.withDescription("already paused"));
      } else if (!sandboxes.containsKey(id)) {
        fail(response, Status.NOT_FOUND.withDescription("not running here"));
      } else if (failure != null) {
        fail(response, failure);
      } else {
        CreateSandboxRequest r = java.util.Objects.requireNonNull(sandboxes.remove(id));
        PausedSandbox saved =
            PausedSandbox.newBuilder()
                .setSandboxId(id)
                .setTemplateId(r.getTemplateId())
                .setCpuCount(r.getCpuCount())
                .setMemoryMb(r.getMemoryMb())
                .putAllMetadata(r.getMetadataMap())
                .setPausedAt(now())
                .setMemoryKept(request.getMemory() && checkpoints)
                .setSizeBytes(request.getMemory() && checkpoints ? 25_000_000 : 1_000_000)
                .setEgress(r.getEgress())
                .build();
        pausedRequests.put(id, r);
        paused.put(id, saved);
        answer(response, saved);
      }
    }

    @Override
    public void resume(ResumeSandboxRequest request, StreamObserver<Sandbox> response) {
      resumes.incrementAndGet();
      awaitGate();
      lastResume = request;
      String id = request.getSandboxId();
      Status failure = resumeFailure.get();
      if (!paused.containsKey(id)) {
        fail(response, Status.NOT_FOUND.withDescription("nothing paused under that id"));
      } else if (failure != null) {
        fail(response, failure);
      } else if (sandboxes.size() >= maxSandboxes) {
        fail(response, Status.RESOURCE_EXHAUSTED.withDescription("full"));
      } else {
        CreateSandboxRequest r = java.util.Objects.requireNonNull(pausedRequests.remove(id));
        paused.remove(id);
        CreateSandboxRequest running =
            r.toBuilder()
                .setEndTime(request.getEndTime())
                .setEnvdAccessToken(
                    request.getEnvdAccessToken().isEmpty()
                        ? r.getEnvdAccessToken()
                        : request.getEnvdAccessToken())
                .build();
        sandboxes.put(id, running);
        answer(response, toSandbox(running));
      }
    }

    @Override
    public void listPaused(ListPausedRequest request, StreamObserver<ListPausedResponse> response) {
      answer(response, ListPausedResponse.newBuilder().addAllSandboxes(paused.values()).build());
    }

    @Override
    public void deletePaused(
        DeletePausedRequest request, StreamObserver<DeletePausedResponse> response) {
      if (paused.remove(request.getSandboxId()) == null) {
        fail(response, Status.NOT_FOUND);
        return;
      }
      pausedRequests.remove(request.getSandboxId());
      deletedPaused.incrementAndGet();
      answer(response, DeletePausedResponse.getDefaultInstance());
    }

    @Override
    public void createSnapshot(CreateSnapshotRequest request, StreamObserver<Snapshot> response) {
      CreateSandboxRequest r = sandboxes.get(request.getSandboxId());
      Status failure = snapshotFailure.get();
      if (r == null) {
        fail(response, Status.NOT_FOUND.withDescription("not running here"));
      } else if (failure != null) {
        fail(response, failure);
      } else if (snapshots.containsKey(request.getSnapshotId())) {
        fail(response, Status.ALREADY_EXISTS.withDescription("snapshot id taken"));
      } else {
        Snapshot snapshot =
            Snapshot.newBuilder()
                .setSnapshotId(request.getSnapshotId())
                .setSandboxId(request.getSandboxId())
                .setTemplateId(r.getTemplateId())
                .setCreatedAt(now())
                .setMemoryKept(checkpoints)
                .setSizeBytes(30_000_000)
                .setCpuCount(r.getCpuCount())
                .setMemoryMb(r.getMemoryMb())
                .build();
        snapshotRequests.put(request.getSnapshotId(), r);
        snapshots.put(request.getSnapshotId(), snapshot);
        answer(response, snapshot);
      }
    }

    @Override
    public void listSnapshots(
        ListSnapshotsRequest request, StreamObserver<ListSnapshotsResponse> response) {
      answer(
          response, ListSnapshotsResponse.newBuilder().addAllSnapshots(snapshots.values()).build());
    }

    @Override
    public void deleteSnapshot(
        DeleteSnapshotRequest request, StreamObserver<DeleteSnapshotResponse> response) {
      if (snapshots.remove(request.getSnapshotId()) == null) {
        fail(response, Status.NOT_FOUND);
        return;
      }
      snapshotRequests.remove(request.getSnapshotId());
      answer(response, DeleteSnapshotResponse.getDefaultInstance());
    }

    @Override
    public void fork(ForkSandboxRequest request, StreamObserver<ForkSandboxResponse> response) {
      CreateSandboxRequest parent = sandboxes.get(request.getSandboxId());
      if (parent == null) {
        fail(response, Status.NOT_FOUND.withDescription("not running here"));
        return;
      }
      Status failure = forkFailure.get();
      if (failure != null) {
        fail(response, failure);
        return;
      }
      if (request.getChildrenCount() < 1 || request.getChildrenCount() > 100) {
        fail(response, Status.INVALID_ARGUMENT.withDescription("1..100 children"));
        return;
      }
      ForkSandboxResponse.Builder results = ForkSandboxResponse.newBuilder();
      for (int i = 0; i < request.getChildrenCount(); i++) {
        CreateSandboxRequest child = request.getChildren(i);
        if (failingForkChildren.contains(i)) {
          results.addResults(
              ForkResult.newBuilder()
                  .setErrorCode(Status.Code.RESOURCE_EXHAUSTED.value())
                  .setErrorMessage("node full"));
          continue;
        }
        CreateSandboxRequest started =
            child.toBuilder()
                .setTemplateId(parent.getTemplateId())
                .setCpuCount(parent.getCpuCount())
                .setMemoryMb(parent.getMemoryMb())
                .putAllEnvVars(parent.getEnvVarsMap())
                .putMetadata("forkedFrom", request.getSandboxId())
                .build();
        sandboxes.put(child.getSandboxId(), started);
        results.addResults(ForkResult.newBuilder().setSandbox(toSandbox(started)));
      }
      answer(response, results.build());
    }
  }

  private final class Node extends NodeServiceGrpc.NodeServiceImplBase {
    @Override
    public void info(NodeInfoRequest request, StreamObserver<NodeInfo> response) {
      if (down) {
        response.onError(Status.UNAVAILABLE.withDescription("down").asRuntimeException());
        return;
      }
      response.onNext(
          NodeInfo.newBuilder()
              .setRuntime("fake")
              .setMaxSandboxes(maxSandboxes)
              .setSandboxes(sandboxes.size())
              .setHostCpuCount(4)
              .setHostMemoryMb(8192)
              .addAllTemplates(templates)
              .setPausedSandboxes(paused.size())
              .setSnapshots(snapshots.size())
              .build());
      response.onCompleted();
    }
  }

  @Override
  public void close() {
    server.shutdownNow();
    proxy.stop(0);
  }
}
