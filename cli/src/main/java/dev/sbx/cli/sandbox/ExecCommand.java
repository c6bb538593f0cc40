package dev.sbx.cli.sandbox;

import dev.sbx.cli.output.Terminal;
import dev.sbx.sdk.ConnectionConfig;
import dev.sbx.sdk.Sandbox;
import dev.sbx.sdk.SandboxException;
import dev.sbx.sdk.TimeoutException;
import dev.sbx.sdk.commands.CommandExitException;
import dev.sbx.sdk.commands.CommandHandle;
import dev.sbx.sdk.commands.CommandOptions;
import dev.sbx.sdk.commands.CommandResult;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code sbx sandbox exec <id> [--] <command> [args…]}: runs a command in a sandbox, streams its
 * stdout and stderr as they come, forwards this process's stdin when it is not a terminal (or with
 * {@code -i}), and exits with the command's exit code.
 */
@Command(
    name = "exec",
    mixinStandardHelpOptions = true,
    description = {
      "Run a command in a sandbox: its output streams live, piped stdin is forwarded, and its exit"
          + " code becomes this command's (124 when --timeout hit it).",
      "The arguments are quoted for the shell: use `-- sh -c '…'` for pipes and variables.",
      "Options go before SANDBOX_ID; everything after it is the command."
    })
public final class ExecCommand extends SandboxSubcommand {
  /** The exit code when the command ran into {@code --timeout} (as coreutils' timeout). */
  static final int TIMED_OUT = 124;

  private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9_./=:,+@%^-]+");

  @Parameters(index = "0", paramLabel = "SANDBOX_ID", description = "The sandbox.")
  @SuppressWarnings("NullAway.Init")
  String sandboxId;

  @Parameters(
      index = "1..*",
      arity = "1..*",
      paramLabel = "COMMAND",
      description = "The command and its arguments.")
  List<String> command = new ArrayList<>();

  @Option(names = "--user", description = "Run as this user (default: the sandbox's).")
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

  @Option(
      names = "--timeout",
      converter = DurationConverter.class,
      description = "Kill the command after this long, e.g. 30s (default: none).")
  Duration timeout = Duration.ZERO;

  @Option(
      names = {"-i", "--interactive"},
      description =
          "Forward stdin even when it is a terminal (it is always forwarded from a pipe"
              + " or file).")
  boolean interactive;

  @Option(names = "--no-stdin", description = "Never forward stdin.")
  boolean noStdin;

  @Override
  int run(ConnectionConfig config) throws Exception {
    List<String> argv = new ArrayList<>(command);
    if (!argv.isEmpty() && argv.getFirst().equals("--")) {
      argv.removeFirst();
    }
    if (argv.isEmpty()) {
      err().println(name() + ": no command given (sbx sandbox exec <id> -- <command> [args…])");
      err().flush();
      return USAGE;
    }
    boolean forwardStdin = !noStdin && (interactive || !Terminal.isTerminal(0));
    // UTF-8 whatever the locale says (the SDK hands over the output decoded as UTF-8)
    PrintStream stdout =
        new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
    PrintStream stderr =
        new PrintStream(new FileOutputStream(FileDescriptor.err), false, StandardCharsets.UTF_8);
    return exec(config, shellCommand(argv), forwardStdin, System.in, stdout, stderr);
  }

  int exec(
      ConnectionConfig config,
      String cmd,
      boolean forwardStdin,
      InputStream stdin,
      PrintStream stdout,
      PrintStream stderr)
      throws InterruptedException {
    Sandbox sandbox = Sandbox.connect(sandboxId, config);
    AtomicBoolean ended = new AtomicBoolean();
    Thread killOnExit = null;
    try {
      CommandOptions.Builder options =
          CommandOptions.builder()
              .envs(env)
              .timeout(timeout)
              .stdin(forwardStdin)
              .onStdout(
                  text -> {
                    stdout.print(text);
                    stdout.flush();
                  })
              .onStderr(
                  text -> {
                    stderr.print(text);
                    stderr.flush();
                  });
      if (user != null) {
        options.user(user);
      }
      if (cwd != null) {
        options.cwd(cwd);
      }
      CommandHandle handle = sandbox.commands().start(cmd, options.build());
      // Ctrl-C (or a kill) of this CLI ends the command too
      Thread hook =
          new Thread(
              () -> {
                if (!ended.get()) {
                  try {
                    handle.kill();
                  } catch (SandboxException e) {
                    // the sandbox or command is gone already
                  }
                }
              },
              "sbx-exec-kill");
      Runtime.getRuntime().addShutdownHook(hook);
      killOnExit = hook;
      if (forwardStdin) {
        Thread pump =
            Thread.ofPlatform()
                .daemon()
                .name("sbx-exec-stdin")
                .start(() -> pumpStdin(sandbox, handle, stdin, ended));
        pump.setUncaughtExceptionHandler((t, e) -> {});
      }
      int exit;
      try {
        CommandResult result = handle.waitFor();
        exit = result.exitCode();
      } catch (CommandExitException e) {
        exit = e.exitCode();
      } catch (TimeoutException e) {
        ended.set(true);
        stderr.flush();
        err().println(name() + ": the command ran longer than " + timeout + " and was killed");
        err().flush();
        return TIMED_OUT;
      }
      ended.set(true);
      stdout.flush();
      stderr.flush();
      return exit;
    } finally {
      ended.set(true);
      if (killOnExit != null) {
        try {
          Runtime.getRuntime().removeShutdownHook(killOnExit);
        } catch (IllegalStateException e) {
          // shutting down already
        }
      }
      sandbox.disconnect();
    }
  }

  private static void pumpStdin(
      Sandbox sandbox, CommandHandle handle, InputStream stdin, AtomicBoolean ended) {
    byte[] buffer = new byte[64 * 1024];
    try {
      int n;
      while ((n = stdin.read(buffer)) >= 0) {
        if (ended.get()) {
          return;
        }
        if (n > 0) {
          handle.sendStdin(java.util.Arrays.copyOf(buffer, n));
        }
      }
      if (!ended.get()) {
        sandbox.commands().closeStdin(handle.pid());
      }
    } catch (IOException | SandboxException e) {
      // the command ended (or stopped reading) before its input did: nothing more to send
    }
  }

  /** The argv as one command line for {@code bash -c}, each argument quoted where needed. */
  static String shellCommand(List<String> argv) {
    StringBuilder line = new StringBuilder();
    for (String arg : argv) {
      if (!line.isEmpty()) {
        line.append(' ');
      }
      line.append(quote(arg));
    }
    return line.toString();
  }

  static String quote(String arg) {
    if (SAFE.matcher(arg).matches()) {
      return arg;
    }
    return "'" + arg.replace("'", "'\\''") + "'";
  }
}
