package dev.sbx.bench;

import dev.sbx.proto.orchestrator.CreateSandboxRequest;
import dev.sbx.proto.orchestrator.DeleteSandboxRequest;
import dev.sbx.proto.orchestrator.DeleteSandboxResponse;
import dev.sbx.proto.orchestrator.GetSandboxRequest;
import dev.sbx.proto.orchestrator.ListPausedRequest;
import dev.sbx.proto.orchestrator.ListPausedResponse;
import dev.sbx.proto.orchestrator.ListSandboxesRequest;
import dev.sbx.proto.orchestrator.ListSandboxesResponse;
import dev.sbx.proto.orchestrator.NodeInfo;
import dev.sbx.proto.orchestrator.NodeInfoRequest;
import dev.sbx.proto.orchestrator.NodeServiceGrpc;
import dev.sbx.proto.orchestrator.Sandbox;
import dev.sbx.proto.orchestrator.SandboxServiceGrpc;
import dev.sbx.proto.orchestrator.UpdateSandboxRequest;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * An orchestrator without sandboxes behind it, for {@link ApiBenchmark}: SandboxService's create,
 * get, list, update and delete and NodeService's info over plaintext gRPC on loopback (as the API
 * reaches a real node), kept in memory. Create answers at once, so what a client waits for beyond
 * it is the API's own work; the time spent inside {@code Create} is recorded to show that.
 */
final class StubNode implements AutoCloseable {
  static final String TEMPLATE = "base";

  private final Map<String, Sandbox> sandboxes = new ConcurrentHashMap<>();
  private final Server server;

  /** Nanoseconds spent inside the last {@code Create}. */
  private volatile long lastCreateNanos;

  StubNode() throws IOException {
    server =
        Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
            .addService(new Sandboxes())
            .addService(new Node())
            .build()
            .start();
  }

  /** {@code 127.0.0.1:port}, the node's gRPC target. */
  String target() {
    return "127.0.0.1:" + server.getPort();
  }

  int size() {
    return sandboxes.size();
  }

  long lastCreateNanos() {
    return lastCreateNanos;
  }

  private final class Sandboxes extends SandboxServiceGrpc.SandboxServiceImplBase {
    @Override
    public void create(CreateSandboxRequest request, StreamObserver<Sandbox> response) {
      long start = System.nanoTime();
      if (!request.getTemplateId().equals(TEMPLATE)) {
        response.onError(
            Status.FAILED_PRECONDITION.withDescription("unknown template").asRuntimeException());
        return;
      }
      Sandbox sandbox =
          Sandbox.newBuilder()
              .setSandboxId(request.getSandboxId())
              .setTemplateId(request.getTemplateId())
              .setAddress("10.245.0.2")
              .setEnvdPort(49983)
              .setCpuCount(request.getCpuCount())
              .setMemoryMb(request.getMemoryMb())
              .putAllMetadata(request.getMetadataMap())
              .setEndTime(request.getEndTime())
              .setEgress(request.getEgress())
              .build();
      sandboxes.put(request.getSandboxId(), sandbox);
      lastCreateNanos = System.nanoTime() - start;
      response.onNext(sandbox);
      response.onCompleted();
    }

    @Override
    public void get(GetSandboxRequest request, StreamObserver<Sandbox> response) {
      Sandbox sandbox = sandboxes.get(request.getSandboxId());
      if (sandbox == null) {
        response.onError(Status.NOT_FOUND.asRuntimeException());
        return;
      }
      response.onNext(sandbox);
      response.onCompleted();
    }

    @Override
    public void list(ListSandboxesRequest request, StreamObserver<ListSandboxesResponse> response) {
      response.onNext(
          ListSandboxesResponse.newBuilder().addAllSandboxes(sandboxes.values()).build());
      response.onCompleted();
    }

    @Override
    public void listPaused(ListPausedRequest request, StreamObserver<ListPausedResponse> response) {
      response.onNext(ListPausedResponse.getDefaultInstance());
      response.onCompleted();
    }

    @Override
    public void update(UpdateSandboxRequest request, StreamObserver<Sandbox> response) {
      Sandbox updated =
          sandboxes.computeIfPresent(
              request.getSandboxId(),
              (id, s) -> s.toBuilder().setEndTime(request.getEndTime()).build());
      if (updated == null) {
        response.onError(Status.NOT_FOUND.asRuntimeException());
        return;
      }
      response.onNext(updated);
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
  }

  private final class Node extends NodeServiceGrpc.NodeServiceImplBase {
    @Override
    public void info(NodeInfoRequest request, StreamObserver<NodeInfo> response) {
      response.onNext(
          NodeInfo.newBuilder()
              .setRuntime("stub")
              .setMaxSandboxes(100_000)
              .setSandboxes(sandboxes.size())
              .setHostCpuCount(64)
              .setHostMemoryMb(1_000_000)
              .addAllTemplates(List.of(TEMPLATE))
              .build());
      response.onCompleted();
    }
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow();
    server.awaitTermination(10, TimeUnit.SECONDS);
  }
}
