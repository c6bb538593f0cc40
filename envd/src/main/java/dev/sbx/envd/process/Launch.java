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
 * How envd executes a request's command, as E2B's envd does: a shell raises the process's OOM score
 * (so the OOM killer picks the user's processes before envd) and {@code exec}s into util-linux
 * {@code setpriv}, which takes the user's uid, gid and groups and {@code exec}s (with a PATH
 * search) into the command. Each step replaces the previous one, so the pid envd reports is the
 * command's. The shell is busybox's, so that any rootfs works; its applets are never used for the
 * command, since setpriv is named by absolute path.
 *
 * @param program the file executed first (busybox)
 * @param argv the whole argument vector, {@code argv[0]} included
 * @param env {@code NAME=value} strings, exactly the process's environment
 * @param cwd the working directory
 */
record Launch(Path program, List<String> argv, List<String> env, Path cwd) {
  /** The PATH every process starts with (a request may override it). */
  static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  static final String OOM_SCRIPT = "echo 100 > /proc/$$/oom_score_adj && exec \"$@\"";

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
      Path busybox,
      Path setpriv,
      SandboxUser user,
      Map<String, String> defaultEnv,
      ProcessConfig config,
      Path cwd) {
    if (config.getCmd().isEmpty()) {
      throw new ConnectException(ConnectCode.INVALID_ARGUMENT, "process cmd must not be empty");
    }
    List<String> argv = new ArrayList<>();
    argv.add(busybox.toString());
    argv.add("sh");
    argv.add("-c");
    argv.add(OOM_SCRIPT);
    argv.add("--");
    argv.add(setpriv.toString());
    argv.add("--reuid=" + user.uid());
    argv.add("--regid=" + user.gid());
    argv.add(
        user.groups().isEmpty()
            ? "--clear-groups"
            : user.groups().stream()
                .map(String::valueOf)
                .collect(Collectors.joining(",", "--groups=", "")));
    argv.add("--");
    argv.add(checked("cmd", config.getCmd()));
    for (String arg : config.getArgsList()) {
      argv.add(checked("argument", arg));
    }
    return new Launch(busybox, argv, environment(user, defaultEnv, config.getEnvsMap()), cwd);
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
