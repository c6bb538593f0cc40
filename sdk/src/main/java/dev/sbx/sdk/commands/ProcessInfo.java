package dev.sbx.sdk.commands;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A process running in the sandbox ({@link Commands#list()}).
 *
 * @param pid its process ID
 * @param tag its tag, if it was started with one
 * @param cmd the executable
 * @param args its arguments
 * @param envs the environment variables it was started with (besides the defaults)
 * @param cwd its working directory, if one was given
 */
public record ProcessInfo(
    int pid,
    @Nullable String tag,
    String cmd,
    List<String> args,
    Map<String, String> envs,
    @Nullable String cwd) {
  public ProcessInfo {
    requireNonNull(cmd, "cmd");
    args = List.copyOf(args);
    envs = Map.copyOf(envs);
  }
}
