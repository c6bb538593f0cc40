package dev.sbx.sdk.internal;

import static java.util.Objects.requireNonNull;

import dev.sbx.connect.ConnectException;
import dev.sbx.connect.ServerStream;
import dev.sbx.proto.process.ProcessEvent;
import dev.sbx.proto.process.ProcessInput;
import dev.sbx.proto.process.ProcessSelector;
import dev.sbx.proto.process.SendInputRequest;
import dev.sbx.proto.process.SendInputResponse;
import dev.sbx.proto.process.SendSignalRequest;
import dev.sbx.proto.process.SendSignalResponse;
import dev.sbx.proto.process.Signal;
import dev.sbx.sdk.NotFoundException;
import dev.sbx.sdk.SandboxException;
import dev.sbx.sdk.commands.CommandExitException;
import dev.sbx.sdk.commands.CommandHandle;
import dev.sbx.sdk.commands.CommandResult;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * A {@link CommandHandle} over a {@code Start} or {@code Connect} stream: the first event (start)
 * is read by {@link #open}, the rest on a virtual thread that feeds the callbacks and collects the
 * output.
 */
final class ProcessStream<M extends com.google.protobuf.Message> implements CommandHandle {
  private final EnvdClient envd;
  private final ServerStream<M> stream;
  private final Function<M, ProcessEvent> events;
  private final int pid;
  private final boolean pty;
  private final @Nullable Consumer<String> onStdout;
  private final @Nullable Consumer<String> onStderr;
  private final @Nullable Consumer<byte[]> onPty;
  private final TextCollector stdout = new TextCollector();
  private final TextCollector stderr = new TextCollector();
  private final CompletableFuture<CommandResult> result = new CompletableFuture<>();
  private volatile @Nullable Integer exitCode;
  private volatile @Nullable String error;
  private volatile boolean disconnected;

  private ProcessStream(
      EnvdClient envd,
      ServerStream<M> stream,
      Function<M, ProcessEvent> events,
      int pid,
      boolean pty,
      @Nullable Consumer<String> onStdout,
      @Nullable Consumer<String> onStderr,
      @Nullable Consumer<byte[]> onPty) {
    this.envd = envd;
    this.stream = stream;
    this.events = events;
    this.pid = pid;
    this.pty = pty;
    this.onStdout = onStdout;
    this.onStderr = onStderr;
    this.onPty = onPty;
  }

  /**
   * Reads the start event (which must come first, as E2B's SDKs require) and starts the reader. The
   * stream is closed if that fails.
   */
  static <M extends com.google.protobuf.Message> ProcessStream<M> open(
      EnvdClient envd,
      ServerStream<M> stream,
      Function<M, ProcessEvent> events,
      boolean pty,
      @Nullable Consumer<String> onStdout,
      @Nullable Consumer<String> onStderr,
      @Nullable Consumer<byte[]> onPty) {
    ProcessStream<M> handle;
    try {
      M first = stream.next();
      if (first == null || !events.apply(first).hasStart()) {
        throw new SandboxException("Expected start event from envd, got " + first);
      }
      int pid = events.apply(first).getStart().getPid();
      handle = new ProcessStream<>(envd, stream, events, pid, pty, onStdout, onStderr, onPty);
    } catch (ConnectException e) {
      stream.close();
      throw EnvdClient.rpcError(e);
    } catch (RuntimeException e) {
      stream.close();
      throw e;
    }
    Thread.ofVirtual().name("sbx-sdk-process-" + handle.pid).start(handle::read);
    return handle;
  }

  private void read() {
    ProcessEvent.EndEvent end = null;
    try {
      for (M message; (message = stream.next()) != null; ) {
        ProcessEvent event = events.apply(message);
        switch (event.getEventCase()) {
          case DATA -> data(event.getData());
          case END -> end = event.getEnd();
          case START, KEEPALIVE, EVENT_NOT_SET -> {
            // nothing to do: a keepalive, or an event this SDK does not know
          }
        }
      }
    } catch (ConnectException e) {
      result.completeExceptionally(
          disconnected
              ? new SandboxException("disconnected from process " + pid + " before it ended", e)
              : EnvdClient.rpcError(e));
      return;
    } catch (RuntimeException e) {
      stream.close();
      result.completeExceptionally(
          e instanceof SandboxException
              ? e
              : new SandboxException("reading the output of process " + pid + " failed: " + e, e));
      return;
    }
    if (end == null) {
      result.completeExceptionally(
          new SandboxException("the output of process " + pid + " ended without an end event"));
      return;
    }
    String endError = end.hasError() ? end.getError() : null;
    error = endError;
    exitCode = end.getExitCode();
    result.complete(
        new CommandResult(end.getExitCode(), stdout.finish(), stderr.finish(), endError));
  }

  private void data(ProcessEvent.DataEvent data) {
    switch (data.getOutputCase()) {
      case STDOUT -> {
        String text = stdout.append(data.getStdout().toByteArray());
        if (onStdout != null && !text.isEmpty()) {
          onStdout.accept(text);
        }
      }
      case STDERR -> {
        String text = stderr.append(data.getStderr().toByteArray());
        if (onStderr != null && !text.isEmpty()) {
          onStderr.accept(text);
        }
      }
      case PTY -> {
        if (onPty != null) {
          onPty.accept(data.getPty().toByteArray());
        }
      }
      case OUTPUT_NOT_SET -> {
        // an empty data event
      }
    }
  }

  @Override
  public int pid() {
    return pid;
  }

  @Override
  public CommandResult waitFor() {
    CommandResult done;
    try {
      done = result.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SandboxException("interrupted while waiting for process " + pid, e);
    } catch (ExecutionException | CompletionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof SandboxException sandbox) {
        // the reader's exception, rethrown here with this thread's stack as well
        sandbox.addSuppressed(new SandboxException("waited for process " + pid));
        throw sandbox;
      }
      throw new SandboxException("process " + pid + " failed: " + cause, cause);
    }
    if (done.exitCode() != 0) {
      throw new CommandExitException(done);
    }
    return done;
  }

  @Override
  public boolean kill() {
    return kill(envd, pid);
  }

  static boolean kill(EnvdClient envd, int pid) {
    try {
      envd.unary(
          "process.Process/SendSignal",
          SendSignalRequest.newBuilder()
              .setProcess(selector(pid))
              .setSignal(Signal.SIGNAL_SIGKILL)
              .build(),
          SendSignalResponse.getDefaultInstance(),
          null);
      return true;
    } catch (NotFoundException e) {
      return false;
    }
  }

  @Override
  public void sendStdin(byte[] data) {
    sendInput(envd, pid, data, pty);
  }

  static void sendInput(EnvdClient envd, int pid, byte[] data, boolean pty) {
    requireNonNull(data, "data");
    ProcessInput.Builder input = ProcessInput.newBuilder();
    if (pty) {
      input.setPty(com.google.protobuf.ByteString.copyFrom(data));
    } else {
      input.setStdin(com.google.protobuf.ByteString.copyFrom(data));
    }
    envd.unary(
        "process.Process/SendInput",
        SendInputRequest.newBuilder().setProcess(selector(pid)).setInput(input).build(),
        SendInputResponse.getDefaultInstance(),
        null);
  }

  static ProcessSelector selector(int pid) {
    return ProcessSelector.newBuilder().setPid(pid).build();
  }

  @Override
  public String stdout() {
    return stdout.current();
  }

  @Override
  public String stderr() {
    return stderr.current();
  }

  @Override
  public @Nullable Integer exitCode() {
    return exitCode;
  }

  @Override
  public @Nullable String error() {
    return error;
  }

  @Override
  public void disconnect() {
    disconnected = true;
    stream.close();
  }

  @Override
  public String toString() {
    return "CommandHandle[pid=" + pid + (exitCode != null ? ", exitCode=" + exitCode : "") + "]";
  }

  /** UTF-8 output decoded across chunk boundaries (a character may be split between chunks). */
  private static final class TextCollector {
    private final CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    private final StringBuilder text = new StringBuilder();
    private ByteBuffer pending = ByteBuffer.allocate(0);

    /** Adds a chunk and returns the text it completes. */
    synchronized String append(byte[] chunk) {
      ByteBuffer in = ByteBuffer.allocate(pending.remaining() + chunk.length);
      in.put(pending).put(chunk).flip();
      CharBuffer out = CharBuffer.allocate(in.remaining() + 1);
      decoder.decode(in, out, false);
      pending = in.slice();
      String decoded = out.flip().toString();
      text.append(decoded);
      return decoded;
    }

    synchronized String finish() {
      CharBuffer out = CharBuffer.allocate(pending.remaining() + 4);
      decoder.decode(pending, out, true);
      decoder.flush(out);
      pending = ByteBuffer.allocate(0);
      text.append(out.flip());
      return text.toString();
    }

    synchronized String current() {
      return text.toString();
    }
  }
}
