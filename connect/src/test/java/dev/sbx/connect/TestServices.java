package dev.sbx.connect;

import com.google.protobuf.ByteString;
import dev.sbx.proto.filesystem.EntryInfo;
import dev.sbx.proto.filesystem.FileType;
import dev.sbx.proto.filesystem.StatRequest;
import dev.sbx.proto.filesystem.StatResponse;
import dev.sbx.proto.process.ListRequest;
import dev.sbx.proto.process.ListResponse;
import dev.sbx.proto.process.ProcessConfig;
import dev.sbx.proto.process.ProcessEvent;
import dev.sbx.proto.process.ProcessInfo;
import dev.sbx.proto.process.StartRequest;
import dev.sbx.proto.process.StartResponse;
import dev.sbx.proto.process.StreamInputRequest;
import dev.sbx.proto.process.StreamInputResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * envd-shaped services whose behaviour the request selects (the Stat path, the Start command), and
 * what the handlers observed, for the tests to check.
 */
final class TestServices {
  /** Released by a test to let the {@code latch} stream finish. */
  final CountDownLatch release = new CountDownLatch(1);

  /** Completed by a handler that noticed it was interrupted. */
  final CompletableFuture<Boolean> interrupted = new CompletableFuture<>();

  /** Completed by a streaming handler once send failed: the exception's code. */
  final CompletableFuture<ConnectCode> sendFailure = new CompletableFuture<>();

  /** Completed with the stream's isCancelled() after send failed or the handler was interrupted. */
  final CompletableFuture<Boolean> cancelledSeen = new CompletableFuture<>();

  /** The last call context a handler saw. */
  final AtomicReference<CallContext> lastContext = new AtomicReference<>();

  static ProcessEvent start(int pid) {
    return ProcessEvent.newBuilder()
        .setStart(ProcessEvent.StartEvent.newBuilder().setPid(pid))
        .build();
  }

  static StartResponse event(ProcessEvent event) {
    return StartResponse.newBuilder().setEvent(event).build();
  }

  static StartResponse startEvent() {
    return event(start(42));
  }

  static StartResponse stdout(String text) {
    return event(
        ProcessEvent.newBuilder()
            .setData(ProcessEvent.DataEvent.newBuilder().setStdout(ByteString.copyFromUtf8(text)))
            .build());
  }

  static StartResponse endEvent() {
    return event(
        ProcessEvent.newBuilder()
            .setEnd(
                ProcessEvent.EndEvent.newBuilder()
                    .setExitCode(0)
                    .setExited(true)
                    .setStatus("exit status 0"))
            .build());
  }

  static StartRequest command(String cmd) {
    return StartRequest.newBuilder()
        .setProcess(ProcessConfig.newBuilder().setCmd(cmd))
        .setStdin(false)
        .build();
  }

  List<ServiceDefinition> definitions() {
    return List.of(
        ServiceDefinition.builder("filesystem.Filesystem")
            .unary("Stat", StatRequest.getDefaultInstance(), this::stat)
            .build(),
        ServiceDefinition.builder("process.Process")
            .unary(
                "List",
                ListRequest.getDefaultInstance(),
                (ListRequest request, CallContext context) -> list())
            .serverStreaming("Start", StartRequest.getDefaultInstance(), this::startProcess)
            .clientStreaming(
                "StreamInput", StreamInputRequest.getDefaultInstance(), this::streamInput)
            .build());
  }

  private static ListResponse list() {
    return ListResponse.newBuilder()
        .addProcesses(
            ProcessInfo.newBuilder()
                .setPid(7)
                .setConfig(ProcessConfig.newBuilder().setCmd("/bin/bash").addArgs("-l")))
        .build();
  }

  private StatResponse stat(StatRequest request, CallContext context) {
    lastContext.set(context);
    String path = request.getPath();
    switch (path) {
      case "/missing" ->
          throw new ConnectException(ConnectCode.NOT_FOUND, "path '/missing' does not exist");
      case "/boom" -> throw new IllegalStateException("secret detail");
      case "/slow" -> {
        try {
          Thread.sleep(Duration.ofMinutes(5));
        } catch (InterruptedException e) {
          interrupted.complete(true);
          throw new ConnectException(ConnectCode.CANCELED, "interrupted");
        }
      }
      case "/header" -> context.addResponseHeader("X-Test", "yes");
      default -> {}
    }
    String name = path.substring(path.lastIndexOf('/') + 1);
    return StatResponse.newBuilder()
        .setEntry(
            EntryInfo.newBuilder()
                .setName(name)
                .setType(FileType.FILE_TYPE_FILE)
                .setPath(path)
                .setSize(3))
        .build();
  }

  private void startProcess(
      StartRequest request, CallContext context, ResponseStream<StartResponse> responses) {
    lastContext.set(context);
    switch (request.getProcess().getCmd()) {
      case "echo" -> {
        context.addResponseHeader("X-Stream", "yes");
        responses.send(startEvent());
        responses.send(stdout("hi\n"));
        responses.send(endEvent());
      }
      case "latch" -> {
        responses.send(startEvent());
        try {
          if (!release.await(30, TimeUnit.SECONDS)) {
            throw new ConnectException(ConnectCode.DEADLINE_EXCEEDED, "latch never released");
          }
        } catch (InterruptedException e) {
          throw new ConnectException(ConnectCode.CANCELED, "interrupted");
        }
        responses.send(endEvent());
      }
      case "fail" -> {
        responses.send(startEvent());
        throw new ConnectException(ConnectCode.NOT_FOUND, "gone");
      }
      case "crash" -> throw new IllegalStateException("secret detail");
      case "forever", "silent" -> {
        if (request.getProcess().getCmd().equals("forever")) {
          responses.send(startEvent());
        }
        try {
          Thread.sleep(Duration.ofMinutes(5));
        } catch (InterruptedException e) {
          cancelledSeen.complete(responses.isCancelled());
          interrupted.complete(true);
        }
        try {
          responses.send(endEvent());
        } catch (ConnectException e) {
          sendFailure.complete(e.code());
        }
      }
      case "watch" -> {
        // as envd's process stream: ends normally once it sees the call cancelled
        responses.send(startEvent());
        while (!responses.isCancelled()) {
          Thread.onSpinWait();
        }
      }
      case "spam" -> {
        try {
          while (true) {
            responses.send(stdout("x".repeat(1024)));
            Thread.sleep(5);
          }
        } catch (ConnectException e) {
          sendFailure.complete(e.code());
          cancelledSeen.complete(responses.isCancelled());
          throw e;
        } catch (InterruptedException e) {
          interrupted.complete(true);
        }
      }
      default -> throw new ConnectException(ConnectCode.INVALID_ARGUMENT, "unknown command");
    }
  }

  private StreamInputResponse streamInput(
      RequestStream<StreamInputRequest> requests, CallContext context) {
    lastContext.set(context);
    int count = 0;
    StreamInputRequest request;
    while ((request = requests.receive()) != null) {
      if (request.hasKeepalive()) {
        throw new ConnectException(ConnectCode.FAILED_PRECONDITION, "no keepalive please");
      }
      count++;
    }
    context.addResponseHeader("X-Count", Integer.toString(count));
    return StreamInputResponse.getDefaultInstance();
  }
}
