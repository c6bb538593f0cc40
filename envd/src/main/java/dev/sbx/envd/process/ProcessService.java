package dev.sbx.envd.process;

import static java.util.Objects.requireNonNull;

import dev.sbx.connect.CallContext;
import dev.sbx.connect.ConnectCode;
import dev.sbx.connect.ConnectException;
import dev.sbx.connect.RequestStream;
import dev.sbx.connect.ResponseStream;
import dev.sbx.connect.ServiceDefinition;
import dev.sbx.envd.CallHeaders;
import dev.sbx.envd.SandboxSettings;
import dev.sbx.envd.linux.ChildProcess;
import dev.sbx.envd.linux.ErrnoException;
import dev.sbx.envd.linux.Syscalls;
import dev.sbx.envd.user.PathResolver;
import dev.sbx.envd.user.RequestUsers;
import dev.sbx.envd.user.SandboxUser;
import dev.sbx.proto.process.CloseStdinRequest;
import dev.sbx.proto.process.CloseStdinResponse;
import dev.sbx.proto.process.ConnectRequest;
import dev.sbx.proto.process.ConnectResponse;
import dev.sbx.proto.process.ListRequest;
import dev.sbx.proto.process.ListResponse;
import dev.sbx.proto.process.PTY;
import dev.sbx.proto.process.ProcessConfig;
import dev.sbx.proto.process.ProcessEvent;
import dev.sbx.proto.process.ProcessInfo;
import dev.sbx.proto.process.ProcessInput;
import dev.sbx.proto.process.ProcessSelector;
import dev.sbx.proto.process.SendInputRequest;
import dev.sbx.proto.process.SendInputResponse;
import dev.sbx.proto.process.SendSignalRequest;
import dev.sbx.proto.process.SendSignalResponse;
import dev.sbx.proto.process.StartRequest;
import dev.sbx.proto.process.StartResponse;
import dev.sbx.proto.process.StreamInputRequest;
import dev.sbx.proto.process.StreamInputResponse;
import dev.sbx.proto.process.UpdateRequest;
import dev.sbx.proto.process.UpdateResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * envd's {@code process.Process} service (E2B wire protocol §2.4). Processes run as the request's
 * user (Basic {@code Authorization}, else the sandbox's default user) and outlive the stream that
 * started them; {@code Connect-Timeout-Ms} on {@code Start} is the process's lifetime. The tag
 * {@code _system} is an ordinary tag here: sbx has no per-user cgroup to leave.
 */
public final class ProcessService {
  /** How long a finished process stays visible to {@code Connect}. */
  public static final Duration FINISHED_RETENTION = Duration.ofSeconds(30);

  /** How often a waiting stream checks whether its client has gone. */
  private static final long CANCEL_CHECK_NANOS = Duration.ofSeconds(1).toNanos();

  private static final ProcessEvent KEEPALIVE =
      ProcessEvent.newBuilder().setKeepalive(ProcessEvent.KeepAlive.getDefaultInstance()).build();

  private final SandboxSettings settings;
  private final RequestUsers users;
  private final Path exec;
  private final ChildProcess.ExitWatch exitWatch;
  private final ProcessTable table;

  /**
   * @param exec the {@code envd-exec} helper (OOM score, the user's ids, then the command)
   */
  public ProcessService(SandboxSettings settings, RequestUsers users, Path exec) {
    this(settings, users, exec, ChildProcess.ExitWatch.PIDFD);
  }

  /**
   * @param exitWatch {@link ChildProcess.ExitWatch#POLL} never uses a pidfd ({@code
   *     ENVD_PIDFD=off})
   */
  public ProcessService(
      SandboxSettings settings, RequestUsers users, Path exec, ChildProcess.ExitWatch exitWatch) {
    this(settings, users, exec, FINISHED_RETENTION, exitWatch);
  }

  ProcessService(
      SandboxSettings settings, RequestUsers users, Path exec, Duration finishedRetention) {
    this(settings, users, exec, finishedRetention, ChildProcess.ExitWatch.PIDFD);
  }

  ProcessService(
      SandboxSettings settings,
      RequestUsers users,
      Path exec,
      Duration finishedRetention,
      ChildProcess.ExitWatch exitWatch) {
    this.settings = requireNonNull(settings, "settings");
    this.users = requireNonNull(users, "users");
    this.exec = requireNonNull(exec, "exec");
    this.exitWatch = requireNonNull(exitWatch, "exitWatch");
    this.table = new ProcessTable(requireNonNull(finishedRetention, "finishedRetention"));
  }

  public ServiceDefinition definition() {
    return ServiceDefinition.builder("process.Process")
        .serverStreaming("Start", StartRequest.getDefaultInstance(), this::start)
        .serverStreaming("Connect", ConnectRequest.getDefaultInstance(), this::connect)
        .unary("List", ListRequest.getDefaultInstance(), this::list)
        .unary("SendInput", SendInputRequest.getDefaultInstance(), this::sendInput)
        .clientStreaming("StreamInput", StreamInputRequest.getDefaultInstance(), this::streamInput)
        .unary("SendSignal", SendSignalRequest.getDefaultInstance(), this::sendSignal)
        .unary("CloseStdin", CloseStdinRequest.getDefaultInstance(), this::closeStdin)
        .unary("Update", UpdateRequest.getDefaultInstance(), this::update)
        .build();
  }

  void start(StartRequest request, CallContext context, ResponseStream<StartResponse> responses) {
    SandboxUser user = user(context);
    SandboxSettings.Snapshot current = settings.current();
    ProcessConfig config = request.getProcess();
    Path cwd = workingDirectory(config, user, current.defaultWorkdir());
    Launch launch = Launch.of(exec, user, current.envVars(), config, cwd);
    SandboxProcess.WindowSize window = null;
    if (request.hasPty()) {
      PTY.Size size = request.getPty().getSize();
      window = new SandboxProcess.WindowSize(clamp(size.getCols()), clamp(size.getRows()));
    }
    ProcessInfo.Builder info = ProcessInfo.newBuilder().setConfig(config);
    if (request.hasTag()) {
      info.setTag(request.getTag());
    }
    boolean stdin = !request.hasStdin() || request.getStdin();
    // One deadline for the process's lifetime and the stream: the end of a process killed at its
    // deadline then always finds the stream past it, which ends with deadline_exceeded as in E2B.
    long deadline = CallHeaders.deadline(context);
    Subscription subscription = new Subscription();
    SandboxProcess process;
    try {
      process =
          SandboxProcess.start(
              launch,
              info.build(),
              window,
              stdin,
              deadline,
              subscription,
              table::finished,
              exitWatch);
    } catch (ErrnoException e) {
      throw new ConnectException(
          ConnectCode.INTERNAL,
          "error starting process '" + config.getCmd() + "': " + e.getMessage());
    }
    table.add(process);
    stream(
        process,
        subscription,
        context,
        deadline,
        responses,
        event -> responses.send(StartResponse.newBuilder().setEvent(event).build()));
  }

  void connect(
      ConnectRequest request, CallContext context, ResponseStream<ConnectResponse> responses) {
    user(context);
    SandboxProcess process = find(request.getProcess(), true);
    stream(
        process,
        process.subscribe(),
        context,
        CallHeaders.deadline(context),
        responses,
        event -> responses.send(ConnectResponse.newBuilder().setEvent(event).build()));
  }

  ListResponse list(ListRequest request, CallContext context) {
    user(context);
    ListResponse.Builder response = ListResponse.newBuilder();
    for (SandboxProcess process : table.running()) {
      response.addProcesses(process.info());
    }
    return response.build();
  }

  SendInputResponse sendInput(SendInputRequest request, CallContext context) {
    user(context);
    write(find(request.getProcess(), false), request.getInput());
    return SendInputResponse.getDefaultInstance();
  }

  StreamInputResponse streamInput(RequestStream<StreamInputRequest> requests, CallContext context) {
    user(context);
    SandboxProcess process = null;
    StreamInputRequest request;
    while ((request = requests.receive()) != null) {
      switch (request.getEventCase()) {
        case START -> process = find(request.getStart().getProcess(), false);
        case DATA -> {
          if (process == null) {
            throw new ConnectException(
                ConnectCode.INVALID_ARGUMENT, "the first message must be a start event");
          }
          write(process, request.getData().getInput());
        }
        case KEEPALIVE -> {}
        case EVENT_NOT_SET ->
            throw new ConnectException(ConnectCode.INVALID_ARGUMENT, "invalid event type: none");
      }
    }
    return StreamInputResponse.getDefaultInstance();
  }

  SendSignalResponse sendSignal(SendSignalRequest request, CallContext context) {
    user(context);
    SandboxProcess process = find(request.getProcess(), false);
    int signal =
        switch (request.getSignal()) {
          case SIGNAL_SIGKILL -> Syscalls.SIGKILL;
          case SIGNAL_SIGTERM -> Syscalls.SIGTERM;
          case SIGNAL_UNSPECIFIED, UNRECOGNIZED ->
              throw new ConnectException(
                  ConnectCode.UNIMPLEMENTED,
                  "invalid signal: " + request.getSignalValue() + " is not supported");
        };
    try {
      if (!process.signal(signal)) {
        throw notFound(request.getProcess());
      }
    } catch (ErrnoException e) {
      throw new ConnectException(ConnectCode.INTERNAL, "error sending signal: " + e.getMessage());
    }
    return SendSignalResponse.getDefaultInstance();
  }

  CloseStdinResponse closeStdin(CloseStdinRequest request, CallContext context) {
    user(context);
    find(request.getProcess(), false).closeStdin();
    return CloseStdinResponse.getDefaultInstance();
  }

  UpdateResponse update(UpdateRequest request, CallContext context) {
    user(context);
    SandboxProcess process = find(request.getProcess(), false);
    if (request.hasPty()) {
      PTY.Size size = request.getPty().getSize();
      process.resize(new SandboxProcess.WindowSize(clamp(size.getCols()), clamp(size.getRows())));
    }
    return UpdateResponse.getDefaultInstance();
  }

  /** Processes known now, running or recently finished (tests). */
  ProcessTable table() {
    return table;
  }

  /**
   * Sends {@code start}, then the subscription's events with a keepalive after each idle interval,
   * until the end event. The process keeps running when the client goes away; the call's deadline
   * ends the stream with {@code deadline_exceeded}.
   */
  private static void stream(
      SandboxProcess process,
      Subscription subscription,
      CallContext context,
      long deadline,
      ResponseStream<?> responses,
      Consumer<ProcessEvent> send) {
    long keepalive = CallHeaders.keepaliveInterval(context).toNanos();
    try {
      send.accept(
          ProcessEvent.newBuilder()
              .setStart(ProcessEvent.StartEvent.newBuilder().setPid(process.pid()))
              .build());
      long lastSent = System.nanoTime();
      while (true) {
        long now = System.nanoTime();
        if (deadline != Long.MAX_VALUE && now - deadline >= 0) {
          throw new ConnectException(ConnectCode.DEADLINE_EXCEEDED, "context deadline exceeded");
        }
        long wait = Math.min(keepalive - (now - lastSent), CANCEL_CHECK_NANOS);
        if (deadline != Long.MAX_VALUE) {
          wait = Math.min(wait, deadline - now);
        }
        ProcessEvent event = subscription.poll(Math.max(wait, 0));
        if (event != null && deadline != Long.MAX_VALUE && System.nanoTime() - deadline >= 0) {
          throw new ConnectException(ConnectCode.DEADLINE_EXCEEDED, "context deadline exceeded");
        }
        if (event != null) {
          send.accept(event);
          lastSent = System.nanoTime();
          if (event.hasEnd()) {
            return;
          }
        } else if (responses.isCancelled()) {
          return;
        } else if (System.nanoTime() - lastSent >= keepalive) {
          send.accept(KEEPALIVE);
          lastSent = System.nanoTime();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ConnectException(ConnectCode.CANCELED, "the stream was interrupted");
    } finally {
      process.unsubscribe(subscription);
    }
  }

  private static void write(SandboxProcess process, ProcessInput input) {
    switch (input.getInputCase()) {
      case STDIN -> process.writeInput(input.getStdin().toByteArray(), false);
      case PTY -> process.writeInput(input.getPty().toByteArray(), true);
      case INPUT_NOT_SET ->
          throw new ConnectException(ConnectCode.INVALID_ARGUMENT, "invalid input type: none");
    }
  }

  private SandboxProcess find(ProcessSelector selector, boolean includeFinished) {
    SandboxProcess process =
        switch (selector.getSelectorCase()) {
          case PID -> table.byPid(selector.getPid()).orElse(null);
          case TAG -> table.byTag(selector.getTag()).orElse(null);
          case SELECTOR_NOT_SET ->
              throw new ConnectException(
                  ConnectCode.INVALID_ARGUMENT, "invalid process selector: none");
        };
    if (process == null || (!includeFinished && !process.isRunning())) {
      throw notFound(selector);
    }
    return process;
  }

  private static ConnectException notFound(ProcessSelector selector) {
    return new ConnectException(
        ConnectCode.NOT_FOUND,
        selector.getSelectorCase() == ProcessSelector.SelectorCase.TAG
            ? "process with tag " + selector.getTag() + " not found"
            : "process with pid " + Integer.toUnsignedString(selector.getPid()) + " not found");
  }

  private SandboxUser user(CallContext context) {
    return CallHeaders.user(users, context);
  }

  private static Path workingDirectory(
      ProcessConfig config, SandboxUser user, @Nullable String defaultWorkdir) {
    Path cwd;
    try {
      cwd = PathResolver.resolve(config.hasCwd() ? config.getCwd() : "", user, defaultWorkdir);
    } catch (IllegalArgumentException e) {
      throw new ConnectException(ConnectCode.INVALID_ARGUMENT, String.valueOf(e.getMessage()));
    }
    if (!Files.exists(cwd)) {
      throw new ConnectException(ConnectCode.INVALID_ARGUMENT, "cwd '" + cwd + "' does not exist");
    }
    if (!Files.isDirectory(cwd)) {
      throw new ConnectException(
          ConnectCode.INVALID_ARGUMENT, "cwd '" + cwd + "' is not a directory");
    }
    return cwd;
  }

  private static int clamp(int dimension) {
    return dimension < 0 || dimension > 0xffff ? 0xffff : dimension;
  }
}
