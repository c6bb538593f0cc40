package dev.sbx.envd.process;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import com.google.protobuf.UnsafeByteOperations;
import dev.sbx.connect.ConnectCode;
import dev.sbx.connect.ConnectException;
import dev.sbx.envd.linux.ChildProcess;
import dev.sbx.envd.linux.ChildProcess.FileAction;
import dev.sbx.envd.linux.ErrnoException;
import dev.sbx.envd.linux.Syscalls;
import dev.sbx.envd.linux.WaitStatus;
import dev.sbx.proto.process.ProcessEvent;
import dev.sbx.proto.process.ProcessInfo;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * One process started by envd. A platform thread of its own runs an event loop over the process's
 * descriptors: it reads stdout/stderr (or the PTY master) as output arrives and hands each chunk to
 * the streams attached at that moment, writes queued input without blocking, kills the process when
 * its lifetime is over, and reaps it through its pidfd. After the exit it takes what the process
 * left in its pipes, closes every descriptor, and publishes exactly one end event.
 *
 * <p>Without a pidfd (gVisor has no {@code pidfd_open}; {@link ChildProcess.ExitWatch#POLL}) the
 * loop calls {@code waitpid(WNOHANG)} after every wake-up and at least every {@link
 * #REAP_POLL_MAX_MILLIS}: the interval starts at 1 ms, doubles while nothing happens and falls back
 * to 1 ms when an output reaches its end (what usually comes right before the exit). Output, exit
 * status and reaping are the same as with a pidfd; only the end may come up to that much later.
 */
final class SandboxProcess {
  private static final Logger LOG = System.getLogger(SandboxProcess.class.getName());

  static final int STDIO_CHUNK = 32 * 1024;
  static final int PTY_CHUNK = 16 * 1024;

  /** Output is not read while a stream has this much not yet sent (the process then blocks). */
  private static final long BACKPRESSURE_BYTES = 4L << 20;

  /** At most this much is read per stream after the exit (a grandchild may still be writing). */
  private static final long DRAIN_AFTER_EXIT_BYTES = 2L << 20;

  private static final int MAX_WRITE = 64 * 1024;

  /** Without a pidfd: the longest wait between two {@code waitpid(WNOHANG)}. */
  static final int REAP_POLL_MAX_MILLIS = 50;

  enum OutputKind {
    STDOUT,
    STDERR,
    PTY
  }

  private static final class Output {
    final int fd;
    final OutputKind kind;
    boolean open = true;

    Output(int fd, OutputKind kind) {
      this.fd = fd;
      this.kind = kind;
    }
  }

  private sealed interface InputOp {
    CompletableFuture<Boolean> done();
  }

  /** {@code data} is the loop's own copy, never changed. */
  @SuppressWarnings("ArrayRecordComponent")
  private record Write(byte[] data, CompletableFuture<Boolean> done) implements InputOp {}

  private record CloseStdin(CompletableFuture<Boolean> done) implements InputOp {}

  private final ChildProcess child;
  private final ProcessInfo info;
  private final boolean pty;
  private final int wakeFd;
  private final List<Output> outputs;
  private final int masterFd;
  private final Object masterLock = new Object();
  private final Consumer<SandboxProcess> onEnd;

  private final ConcurrentLinkedQueue<InputOp> inputOps = new ConcurrentLinkedQueue<>();
  private final List<Subscription> subscribers = new CopyOnWriteArrayList<>();
  private volatile boolean acceptsStdin;
  private volatile boolean outputStopped;
  private volatile boolean ended;

  // Guarded by masterLock.
  private boolean masterClosed;

  private final Object wakeLock = new Object();

  // Guarded by wakeLock: a closed descriptor's number may be reused at once.
  private boolean wakeClosed;

  // Guarded by this.
  private @Nullable ProcessEvent end;

  // The loop thread's own.
  private int inputFd;
  private long deadlineNanos;
  private final ArrayDeque<InputOp> pendingInput = new ArrayDeque<>();
  private int pendingOffset;

  private SandboxProcess(
      ChildProcess child,
      ProcessInfo info,
      boolean pty,
      int wakeFd,
      List<Output> outputs,
      int masterFd,
      int inputFd,
      long deadlineNanos,
      Consumer<SandboxProcess> onEnd) {
    this.child = child;
    this.info = info;
    this.pty = pty;
    this.wakeFd = wakeFd;
    this.outputs = outputs;
    this.masterFd = masterFd;
    this.inputFd = inputFd;
    this.acceptsStdin = !pty && inputFd >= 0;
    this.deadlineNanos = deadlineNanos;
    this.onEnd = onEnd;
  }

  /** The window of a process's PTY. */
  record WindowSize(int cols, int rows) {}

  /**
   * Starts a process and its event loop.
   *
   * @param info the request's config and tag (the pid is filled in here)
   * @param window the PTY's size, or null for pipes
   * @param stdin whether stdin is a pipe envd writes to (otherwise {@code /dev/null}); ignored with
   *     a PTY
   * @param deadlineNanos the {@link System#nanoTime()} at which the process is killed with SIGKILL;
   *     {@code Long.MAX_VALUE} for no limit
   * @param first attached before any output is read
   * @param onEnd called on the loop thread after the end event is published
   */
  static SandboxProcess start(
      Launch launch,
      ProcessInfo info,
      @Nullable WindowSize window,
      boolean stdin,
      long deadlineNanos,
      Subscription first,
      Consumer<SandboxProcess> onEnd)
      throws ErrnoException {
    return start(
        launch, info, window, stdin, deadlineNanos, first, onEnd, ChildProcess.ExitWatch.PIDFD);
  }

  /** As above, noticing the exit as {@code exitWatch} says. */
  static SandboxProcess start(
      Launch launch,
      ProcessInfo info,
      @Nullable WindowSize window,
      boolean stdin,
      long deadlineNanos,
      Subscription first,
      Consumer<SandboxProcess> onEnd,
      ChildProcess.ExitWatch exitWatch)
      throws ErrnoException {
    List<Integer> parentFds = new ArrayList<>();
    List<Integer> childFds = new ArrayList<>();
    List<FileAction> actions = new ArrayList<>();
    List<Output> outputs = new ArrayList<>();
    int masterFd = -1;
    int inputFd = -1;
    ChildProcess child;
    int wakeFd;
    try {
      wakeFd = Syscalls.eventfd();
      parentFds.add(wakeFd);
      if (window != null) {
        Syscalls.Pty terminal = Syscalls.openPty();
        masterFd = terminal.master();
        parentFds.add(masterFd);
        Syscalls.setWindowSize(masterFd, window.cols(), window.rows());
        actions.add(new FileAction.Open(0, terminal.slavePath(), Syscalls.O_RDWR));
        actions.add(new FileAction.Dup2(0, 1));
        actions.add(new FileAction.Dup2(0, 2));
        outputs.add(new Output(masterFd, OutputKind.PTY));
        inputFd = masterFd;
      } else {
        if (stdin) {
          Syscalls.Pipe in = Syscalls.pipe();
          childFds.add(in.readEnd());
          parentFds.add(in.writeEnd());
          Syscalls.setNonBlocking(in.writeEnd());
          actions.add(new FileAction.Dup2(in.readEnd(), 0));
          inputFd = in.writeEnd();
        } else {
          actions.add(new FileAction.Open(0, "/dev/null", Syscalls.O_RDONLY));
        }
        Syscalls.Pipe out = Syscalls.pipe();
        parentFds.add(out.readEnd());
        childFds.add(out.writeEnd());
        Syscalls.Pipe err = Syscalls.pipe();
        parentFds.add(err.readEnd());
        childFds.add(err.writeEnd());
        Syscalls.setNonBlocking(out.readEnd());
        Syscalls.setNonBlocking(err.readEnd());
        actions.add(new FileAction.Dup2(out.writeEnd(), 1));
        actions.add(new FileAction.Dup2(err.writeEnd(), 2));
        outputs.add(new Output(out.readEnd(), OutputKind.STDOUT));
        outputs.add(new Output(err.readEnd(), OutputKind.STDERR));
      }
      child =
          ChildProcess.spawn(
              launch.program(), launch.argv(), launch.env(), launch.cwd(), actions, exitWatch);
    } catch (ErrnoException | RuntimeException | Error e) {
      parentFds.forEach(Syscalls::close);
      throw e;
    } finally {
      childFds.forEach(Syscalls::close);
    }
    SandboxProcess process =
        new SandboxProcess(
            child,
            info.toBuilder().setPid(child.pid()).build(),
            window != null,
            wakeFd,
            List.copyOf(outputs),
            masterFd,
            inputFd,
            deadlineNanos,
            onEnd);
    process.subscribers.add(first);
    Thread.ofPlatform()
        .name("process-" + child.pid())
        .daemon()
        .stackSize(256 * 1024)
        .start(process::run);
    return process;
  }

  int pid() {
    return info.getPid();
  }

  ProcessInfo info() {
    return info;
  }

  boolean isPty() {
    return pty;
  }

  boolean isRunning() {
    return !ended;
  }

  /** Attaches a stream: it gets the output from now on, then the end (at once if ended). */
  synchronized Subscription subscribe() {
    Subscription subscription = new Subscription();
    if (end != null) {
      subscription.offer(end);
    } else {
      subscribers.add(subscription);
    }
    return subscription;
  }

  void unsubscribe(Subscription subscription) {
    subscribers.remove(subscription);
    wake();
  }

  /**
   * Sends a signal. SIGKILL and SIGTERM also stop the output streaming, as in E2B's envd.
   *
   * @return false when the process has already ended
   */
  boolean signal(int signal) throws ErrnoException {
    boolean sent = child.signal(signal);
    if (sent && (signal == Syscalls.SIGKILL || signal == Syscalls.SIGTERM)) {
      outputStopped = true;
    }
    return sent;
  }

  /** Resizes the PTY; the kernel sends SIGWINCH to its foreground process group. */
  void resize(WindowSize window) {
    if (!pty) {
      throw new ConnectException(
          ConnectCode.INTERNAL, "error resizing tty: tty not assigned to process " + pid());
    }
    synchronized (masterLock) {
      if (masterClosed) {
        throw new ConnectException(
            ConnectCode.NOT_FOUND, "process with pid " + pid() + " not found");
      }
      try {
        Syscalls.setWindowSize(masterFd, window.cols(), window.rows());
      } catch (ErrnoException e) {
        throw new ConnectException(ConnectCode.INTERNAL, "error resizing tty: " + e.getMessage());
      }
    }
  }

  /** Writes to stdin ({@code toPty} false) or to the PTY; returns once all is written. */
  void writeInput(byte[] data, boolean toPty) {
    if (toPty && !pty) {
      throw new ConnectException(
          ConnectCode.INTERNAL, "error writing to tty: tty not assigned to process " + pid());
    }
    if (!toPty && pty) {
      throw new ConnectException(
          ConnectCode.INTERNAL,
          "error writing to stdin: process " + pid() + " runs in a tty, send pty input instead");
    }
    if (!toPty && !acceptsStdin) {
      throw new ConnectException(
          ConnectCode.INTERNAL,
          "error writing to stdin: stdin of process " + pid() + " is closed or was not enabled");
    }
    String what = toPty ? "tty" : "stdin";
    await(submit(new Write(data.clone(), new CompletableFuture<>())), "error writing to " + what);
  }

  /** Closes stdin after the input written so far: the process reads end of file. */
  void closeStdin() {
    if (pty) {
      throw new ConnectException(
          ConnectCode.FAILED_PRECONDITION,
          "closing stdin is not supported for a tty process (send Ctrl-D, 0x04, instead)");
    }
    if (!acceptsStdin) {
      return;
    }
    acceptsStdin = false;
    await(submit(new CloseStdin(new CompletableFuture<>())), "error closing stdin");
  }

  private CompletableFuture<Boolean> submit(InputOp op) {
    inputOps.add(op);
    if (ended) {
      failInput(inputOps);
    } else {
      wake();
    }
    return op.done();
  }

  private void await(CompletableFuture<Boolean> done, String what) {
    try {
      done.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ConnectException(ConnectCode.CANCELED, what + ": interrupted");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new ConnectException(ConnectCode.INTERNAL, what + ": " + cause.getMessage());
    }
  }

  private void wake() {
    synchronized (wakeLock) {
      if (wakeClosed) {
        return;
      }
      try {
        Syscalls.signalEventfd(wakeFd);
      } catch (ErrnoException e) {
        LOG.log(Level.WARNING, "process {0}: cannot wake its event loop: {1}", pid(), e);
      }
    }
  }

  // ---- the loop thread ----

  private void run() {
    WaitStatus status = null;
    String failure = null;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buffer = arena.allocate(STDIO_CHUNK);
      MemorySegment pollFds = arena.allocate(Syscalls.POLLFD_SIZE * (outputs.size() + 3));
      try {
        status = loop(buffer, pollFds);
        drainAfterExit(buffer);
      } catch (ErrnoException | RuntimeException e) {
        failure = e.getMessage();
        LOG.log(Level.WARNING, "process " + pid() + ": event loop failed", e);
      }
    }
    if (status == null) {
      status = reapAfterFailure();
    }
    closeDescriptors();
    failInput(pendingInput);
    failInput(inputOps);
    ProcessEvent endEvent = ExitStatusText.endEvent(status);
    if (failure != null) {
      endEvent =
          endEvent.toBuilder().setEnd(endEvent.getEnd().toBuilder().setError(failure)).build();
    }
    publishEnd(endEvent);
    onEnd.accept(this);
  }

  private WaitStatus loop(MemorySegment buffer, MemorySegment pollFds) throws ErrnoException {
    boolean hasPidfd = child.pidfd() >= 0;
    int reapInterval = 1;
    while (true) {
      takeInputOps();
      runPendingInput();
      int n = 0;
      Syscalls.pollEntry(pollFds, n++, wakeFd, Syscalls.POLLIN);
      Syscalls.pollEntry(pollFds, n++, child.pidfd(), Syscalls.POLLIN);
      boolean paused = backpressured();
      int firstOutput = n;
      for (Output output : outputs) {
        Syscalls.pollEntry(pollFds, n++, output.open && !paused ? output.fd : -1, Syscalls.POLLIN);
      }
      int inputIndex = n;
      Syscalls.pollEntry(pollFds, n++, pendingInput.isEmpty() ? -1 : inputFd, Syscalls.POLLOUT);

      int timeout = paused ? 20 : -1;
      if (deadlineNanos != Long.MAX_VALUE) {
        long millis = Math.max(0, (deadlineNanos - System.nanoTime() + 999_999) / 1_000_000);
        int capped = (int) Math.min(millis, Integer.MAX_VALUE);
        timeout = timeout < 0 ? capped : Math.min(timeout, capped);
      }
      if (!hasPidfd) {
        timeout = timeout < 0 ? reapInterval : Math.min(timeout, reapInterval);
      }
      int ready = Syscalls.poll(pollFds, n, timeout);

      if (Syscalls.pollResult(pollFds, 0) != 0) {
        Syscalls.drainEventfd(wakeFd);
      }
      if (Syscalls.pollResult(pollFds, inputIndex) != 0) {
        runPendingInput();
      }
      boolean outputEnded = false;
      for (int i = 0; i < outputs.size(); i++) {
        if (Syscalls.pollResult(pollFds, firstOutput + i) != 0) {
          outputEnded |= readOnce(outputs.get(i), buffer) == 0;
        }
      }
      if (!hasPidfd || Syscalls.pollResult(pollFds, 1) != 0) {
        WaitStatus status = child.tryReap();
        if (status != null) {
          return status;
        }
      }
      if (!hasPidfd) {
        reapInterval =
            ready == 0 && !outputEnded ? Math.min(reapInterval * 2, REAP_POLL_MAX_MILLIS) : 1;
      }
      if (deadlineNanos != Long.MAX_VALUE && System.nanoTime() - deadlineNanos >= 0) {
        LOG.log(Level.DEBUG, "process {0}: lifetime over, killing it", pid());
        child.signal(Syscalls.SIGKILL);
        deadlineNanos = Long.MAX_VALUE;
      }
    }
  }

  private boolean backpressured() {
    for (Subscription subscription : subscribers) {
      if (subscription.queuedBytes() > BACKPRESSURE_BYTES) {
        return true;
      }
    }
    return false;
  }

  /**
   * Reads one chunk: its size, 0 at end of output, {@link Syscalls#WOULD_BLOCK} when nothing is
   * there. A PTY master reports the end as EIO once the last holder of the slave has closed it.
   */
  private long readOnce(Output output, MemorySegment buffer) {
    if (!output.open) {
      return 0;
    }
    long n;
    try {
      n = Syscalls.read(output.fd, buffer, output.kind == OutputKind.PTY ? PTY_CHUNK : STDIO_CHUNK);
    } catch (ErrnoException e) {
      if (e.errno() != Syscalls.EIO) {
        LOG.log(Level.DEBUG, "process {0}: reading {1}: {2}", pid(), output.kind, e.getMessage());
      }
      n = 0;
    }
    if (n == 0) {
      output.open = false;
      if (output.kind != OutputKind.PTY) {
        Syscalls.close(output.fd);
      }
    } else if (n > 0) {
      publishData(output.kind, buffer.asSlice(0, n).toArray(JAVA_BYTE));
    }
    return n;
  }

  private void drainAfterExit(MemorySegment buffer) {
    for (Output output : outputs) {
      long total = 0;
      while (output.open && total < DRAIN_AFTER_EXIT_BYTES) {
        long n = readOnce(output, buffer);
        if (n <= 0) {
          break;
        }
        total += n;
      }
    }
  }

  private void takeInputOps() {
    InputOp op;
    while ((op = inputOps.poll()) != null) {
      pendingInput.add(op);
    }
  }

  private void runPendingInput() {
    InputOp op;
    while ((op = pendingInput.peek()) != null) {
      switch (op) {
        case CloseStdin close -> {
          if (!pty && inputFd >= 0) {
            Syscalls.close(inputFd);
            inputFd = -1;
          }
          pendingInput.poll();
          close.done().complete(true);
        }
        case Write write -> {
          if (inputFd < 0) {
            pendingInput.poll();
            write.done().completeExceptionally(new IllegalStateException("stdin is closed"));
            continue;
          }
          try {
            if (!writeSome(write)) {
              return;
            }
          } catch (ErrnoException e) {
            pendingInput.poll();
            pendingOffset = 0;
            write.done().completeExceptionally(e);
            continue;
          }
          pendingInput.poll();
          pendingOffset = 0;
          write.done().complete(true);
        }
      }
    }
  }

  /** Writes what the descriptor takes now; true when the whole write is done. */
  private boolean writeSome(Write write) throws ErrnoException {
    byte[] data = write.data();
    while (pendingOffset < data.length) {
      int length = Math.min(MAX_WRITE, data.length - pendingOffset);
      long n;
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment chunk = arena.allocate(length);
        MemorySegment.copy(data, pendingOffset, chunk, JAVA_BYTE, 0, length);
        n = Syscalls.write(inputFd, chunk, length);
      }
      if (n == Syscalls.WOULD_BLOCK) {
        return false;
      }
      pendingOffset += (int) n;
    }
    return true;
  }

  private void publishData(OutputKind kind, byte[] bytes) {
    if (outputStopped || subscribers.isEmpty()) {
      return;
    }
    ProcessEvent.DataEvent.Builder data = ProcessEvent.DataEvent.newBuilder();
    switch (kind) {
      case STDOUT -> data.setStdout(UnsafeByteOperations.unsafeWrap(bytes));
      case STDERR -> data.setStderr(UnsafeByteOperations.unsafeWrap(bytes));
      case PTY -> data.setPty(UnsafeByteOperations.unsafeWrap(bytes));
    }
    ProcessEvent event = ProcessEvent.newBuilder().setData(data).build();
    for (Subscription subscription : subscribers) {
      subscription.offer(event);
    }
  }

  private synchronized void publishEnd(ProcessEvent endEvent) {
    end = endEvent;
    ended = true;
    for (Subscription subscription : subscribers) {
      subscription.offer(endEvent);
    }
    subscribers.clear();
  }

  private WaitStatus reapAfterFailure() {
    try {
      child.close();
      WaitStatus status = child.tryReap();
      if (status != null) {
        return status;
      }
    } catch (ErrnoException e) {
      LOG.log(Level.WARNING, "process " + pid() + ": cannot reap", e);
    }
    return WaitStatus.ofSignal(Syscalls.SIGKILL);
  }

  private void closeDescriptors() {
    acceptsStdin = false;
    for (Output output : outputs) {
      if (output.open && output.kind != OutputKind.PTY) {
        Syscalls.close(output.fd);
      }
      output.open = false;
    }
    if (!pty && inputFd >= 0) {
      Syscalls.close(inputFd);
    }
    inputFd = -1;
    synchronized (masterLock) {
      masterClosed = true;
      Syscalls.close(masterFd);
    }
    try {
      child.close();
    } catch (ErrnoException e) {
      LOG.log(Level.WARNING, "process " + pid() + ": closing its pidfd", e);
    }
    ended = true;
    synchronized (wakeLock) {
      wakeClosed = true;
      Syscalls.close(wakeFd);
    }
  }

  private static void failInput(java.util.Queue<InputOp> ops) {
    InputOp op;
    while ((op = ops.poll()) != null) {
      op.done().completeExceptionally(new IllegalStateException("the process has exited"));
    }
  }
}
