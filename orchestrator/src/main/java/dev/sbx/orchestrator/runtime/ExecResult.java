package dev.sbx.orchestrator.runtime;

import static java.util.Objects.requireNonNull;

/**
 * What a command run with {@link SandboxRuntime#exec} did.
 *
 * @param exitCode its exit code (128 + signal if killed by a signal, as a shell reports it)
 * @param stdout its standard output, as UTF-8
 * @param stderr its standard error, as UTF-8
 */
public record ExecResult(int exitCode, String stdout, String stderr) {
  public ExecResult {
    requireNonNull(stdout, "stdout");
    requireNonNull(stderr, "stderr");
  }
}
