package dev.sbx.cli.sandbox;

import dev.sbx.cli.output.Terminal;
import dev.sbx.sdk.ConnectionConfig;
import dev.sbx.sdk.Sandbox;
import dev.sbx.sdk.SandboxException;
import dev.sbx.sdk.commands.CommandExitException;
import dev.sbx.sdk.commands.CommandHandle;
import dev.sbx.sdk.pty.PtyOptions;
import dev.sbx.sdk.pty.PtySize;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import sun.misc.Signal;

/**
 * {@code sbx sandbox shell <id>}: an interactive terminal in a sandbox through the SDK's PTY. This
 * terminal goes into raw mode (restored on exit, Ctrl-C of the JVM, errors); its size is sent at
 * the start and on every SIGWINCH; the shell's exit (Ctrl-D, {@code exit}) ends the command with
 * the shell's exit code.
 */
@Command(
    name = "shell",
    aliases = {"connect", "terminal"},
    mixinStandardHelpOptions = true,
    description = {
      "Open an interactive shell (bash on a PTY) in a sandbox. Ctrl-D or `exit` ends it.",
      "Needs a terminal; use exec for scripts."
    })
public final class ShellCommand extends SandboxSubcommand {
  private static final int DEFAULT_ROWS = 24;
  private static final int DEFAULT_COLS = 80;

  @Parameters(index = "0", paramLabel = "SANDBOX_ID", description = "The sandbox.")
  @SuppressWarnings("NullAway.Init")
  String sandboxId;

  @Option(names = "--user", description = "Log in as this user (default: the sandbox's).")
  @Nullable String user;

  @Option(
      names = {"-w", "--cwd"},
      description = "Working directory.")
  @Nullable String cwd;

  @Option(
      names = {"-e", "--env"},
      paramLabel = "NAME=VALUE",
      description = "Environment variable (repeatable).")
  Map<String, String> env = new LinkedHashMap<>();

  @Override
  int run(ConnectionConfig config) throws Exception {
    if (!Terminal.isTerminal(0)) {
      err().println(name() + ": stdin is not a terminal (use `sbx sandbox exec` for scripts)");
      err().flush();
      return USAGE;
    }
    int[] size = Terminal.size();
    int rows = size == null ? DEFAULT_ROWS : size[0];
    int cols = size == null ? DEFAULT_COLS : size[1];
    Sandbox sandbox = Sandbox.connect(sandboxId, config);
    OutputStream stdout = new FileOutputStream(FileDescriptor.out);
    AtomicBoolean ended = new AtomicBoolean();
    String saved = null;
    Thread restoreOnExit = null;
    try {
      PtyOptions.Builder options =
          PtyOptions.builder(cols, rows)
              .timeout(Duration.ZERO)
              .onData(
                  bytes -> {
                    try {
                      stdout.write(bytes);
                      stdout.flush();
                    } catch (IOException e) {
                      // our terminal is gone; the shell ends when its input does
                    }
                  });
      env.forEach(options::env);
      if (user != null) {
        options.user(user);
      }
      if (cwd != null) {
        options.cwd(cwd);
      }
      CommandHandle pty = sandbox.pty().create(options.build());
      saved = Terminal.enterRawMode();
      String restore = saved;
      Thread hook =
          new Thread(
              () -> {
                if (restore != null) {
                  Terminal.restore(restore);
                }
                if (!ended.get()) {
                  try {
                    pty.kill();
                  } catch (SandboxException e) {
                    // gone already
                  }
                }
              },
              "sbx-shell-restore");
      Runtime.getRuntime().addShutdownHook(hook);
      restoreOnExit = hook;
      onWindowChange(
          () -> {
            int[] now = Terminal.size();
            if (now != null && !ended.get()) {
              try {
                sandbox.pty().resize(pty.pid(), new PtySize(now[1], now[0]));
              } catch (SandboxException e) {
                // the shell just ended
              }
            }
          });
      Thread.ofPlatform()
          .daemon()
          .name("sbx-shell-input")
          .start(() -> pumpInput(sandbox, pty.pid(), System.in, ended));
      int exit;
      try {
        exit = pty.waitFor().exitCode();
      } catch (CommandExitException e) {
        exit = e.exitCode();
      }
      ended.set(true);
      return exit;
    } finally {
      ended.set(true);
      if (saved != null) {
        Terminal.restore(saved);
      }
      if (restoreOnExit != null) {
        try {
          Runtime.getRuntime().removeShutdownHook(restoreOnExit);
        } catch (IllegalStateException e) {
          // shutting down already
        }
      }
      sandbox.disconnect();
    }
  }

  /** Calls {@code action} on SIGWINCH (the terminal was resized); nothing where it is unknown. */
  @SuppressWarnings("SunApi")
  private static void onWindowChange(Runnable action) {
    try {
      Signal.handle(new Signal("WINCH"), signal -> Thread.ofVirtual().start(action));
    } catch (IllegalArgumentException e) {
      // no SIGWINCH here: the size stays what it was at the start
    }
  }

  private static void pumpInput(Sandbox sandbox, int pid, InputStream in, AtomicBoolean ended) {
    byte[] buffer = new byte[4096];
    try {
      int n;
      while ((n = in.read(buffer)) >= 0 && !ended.get()) {
        if (n > 0) {
          sandbox.pty().sendInput(pid, java.util.Arrays.copyOf(buffer, n));
        }
      }
    } catch (IOException | SandboxException e) {
      // the shell ended
    }
  }
}
