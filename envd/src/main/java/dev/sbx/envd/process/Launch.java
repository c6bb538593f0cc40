package dev.sbx.envd.process;

import dev.sbx.connect.ConnectCode;
import dev.sbx.connect.ConnectException;
import dev.sbx.envd.user.SandboxUser;
import dev.sbx.proto.process.ProcessConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * How envd executes a request's command: through {@code envd-exec} (the dist's static helper,
 * {@code src/dist/envd-exec.c}), which raises its OOM score as E2B's envd does (so the OOM killer
 * picks the user's processes before envd), takes the user's uid, gid and groups unless it already
 * has them, and {@code exec}s (with a PATH search) into the command. The pid envd reports is the
 * command's. One exec of a static binary: it replaced a busybox shell writing {@code oom_score_adj}
 * followed by util-linux setpriv run through the bundled glibc loader (three execs and a dynamic
 * link per command; envd/README.md has the measurements).
 *
 * @param program the file executed first ({@code envd-exec})
 * @param argv the whole argument vector, {@code argv[0]} included
 * @param env {@code NAME=value} strings, exactly the process's environment
 * @param cwd the working directory
 */
record Launch(Path program, List<String> argv, List<String> env, Path cwd) {
  /** The PATH every process starts with (a request may override it). */
  static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  /** The {@code oom_score_adj} of every process (E2B's value): killed before envd on OOM. */
  static final int OOM_SCORE_ADJ = 100;

  Launch {
    argv = List.copyOf(argv);
    env = List.copyOf(env);
  }

  /**
   * The launch of {@code config} for {@code user}.
   *
   * @throws ConnectException {@code invalid_argument} for a command, argument or variable that
   *     cannot be passed to a process (empty command, NUL characters, {@code =} in a name)
   */
  static Launch of(
      Path exec, SandboxUser user, Map<String, String> defaultEnv, ProcessConfig config, Path cwd) {
    if (config.getCmd().isEmpty()) {
      throw new ConnectException(ConnectCode.INVALID_ARGUMENT, "process cmd must not be empty");
    }
    List<String> argv = new ArrayList<>();
    argv.add(exec.toString());
    argv.add(Integer.toString(OOM_SCORE_ADJ));
    argv.add(Integer.toString(user.uid()));
    argv.add(Integer.toString(user.gid()));
    argv.add(user.groups().stream().map(String::valueOf).collect(Collectors.joining(",")));
    argv.add("--");
    argv.add(checked("cmd", config.getCmd()));
    for (String arg : config.getArgsList()) {
      argv.add(checked("argument", arg));
    }
    return new Launch(exec, argv, environment(user, defaultEnv, config.getEnvsMap()), cwd);
  }

  /** PATH, HOME, USER, LOGNAME, then the sandbox's default env, then the request's; later wins. */
  static List<String> environment(
      SandboxUser user, Map<String, String> defaultEnv, Map<String, String> requested) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PATH", DEFAULT_PATH);
    env.put("HOME", user.home().toString());
    env.put("USER", user.name());
    env.put("LOGNAME", user.name());
    env.putAll(defaultEnv);
    env.putAll(requested);
    List<String> entries = new ArrayList<>(env.size());
    env.forEach(
        (name, value) -> {
          if (name.isEmpty() || name.indexOf('=') >= 0) {
            throw new ConnectException(
                ConnectCode.INVALID_ARGUMENT, "invalid environment variable name '" + name + "'");
          }
          entries.add(checked("environment variable " + name, name + "=" + value));
        });
    return entries;
  }

  private static String checked(String what, String value) {
    if (value.indexOf('\0') >= 0) {
      throw new ConnectException(
          ConnectCode.INVALID_ARGUMENT, what + " must not contain a NUL character");
    }
    return value;
  }
}
