package dev.sbx.api;

import com.sun.net.httpserver.HttpServer;
import dev.sbx.proto.orchestrator.CreateSandboxRequest;
import dev.sbx.proto.orchestrator.DeleteSandboxRequest;
import dev.sbx.proto.orchestrator.DeleteSandboxResponse;
import dev.sbx.proto.orchestrator.GetSandboxRequest;
import dev.sbx.proto.orchestrator.ListSandboxesRequest;
import dev.sbx.proto.orchestrator.ListSandboxesResponse;
import dev.sbx.proto.orchestrator.NodeInfo;
import dev.sbx.proto.orchestrator.NodeInfoRequest;
import dev.sbx.proto.orchestrator.NodeServiceGrpc;
import dev.sbx.proto.orchestrator.Sandbox;
import dev.sbx.proto.orchestrator.SandboxServiceGrpc;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * A test double of one orchestrator: SandboxService and NodeService in memory over in-process gRPC,
 * and a node proxy that answers envd's {@code /metrics} and {@code /_sbx/logs} for the sandboxes it
 * runs.
 */
final class FakeOrchestrator implements AutoCloseable {
  final String name;
  final Map<String, CreateSandboxRequest> sandboxes = new ConcurrentHashMap<>();
  final AtomicReference<@Nullable Status> createFailure = new AtomicReference<>();
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

  private final class Sandboxes extends SandboxServiceGrpc.SandboxServiceImplBase {
    @Override
    public void create(CreateSandboxRequest request, StreamObserver<Sandbox> response) {
      Status failure = createFailure.get();
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
