package dev.sbx.sdk.internal;

import static java.util.Objects.requireNonNull;

import dev.sbx.proto.process.PTY;
import dev.sbx.proto.process.ProcessConfig;
import dev.sbx.proto.process.StartRequest;
import dev.sbx.proto.process.StartResponse;
import dev.sbx.proto.process.UpdateRequest;
import dev.sbx.proto.process.UpdateResponse;
import dev.sbx.sdk.commands.CommandHandle;
import dev.sbx.sdk.pty.Pty;
import dev.sbx.sdk.pty.PtyOptions;
import dev.sbx.sdk.pty.PtySize;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@link Pty} over envd's {@code process.Process} service. */
public final class EnvdPty implements Pty {
  private final EnvdClient envd;

  public EnvdPty(EnvdClient envd) {
    this.envd = requireNonNull(envd, "envd");
  }

  @Override
  public CommandHandle create(PtyOptions options) {
    requireNonNull(options, "options");
    Map<String, String> envs = new LinkedHashMap<>();
    envs.put("TERM", "xterm-256color");
    envs.put("LANG", "C.UTF-8");
    envs.put("LC_ALL", "C.UTF-8");
    envs.putAll(options.envs());
    ProcessConfig.Builder process =
        ProcessConfig.newBuilder().setCmd("/bin/bash").addArgs("-i").addArgs("-l").putAllEnvs(envs);
    if (options.cwd() != null) {
      process.setCwd(options.cwd());
    }
    StartRequest request =
        StartRequest.newBuilder().setProcess(process).setPty(pty(options.size())).build();
    return ProcessStream.open(
        envd,
        envd.stream(
            "process.Process/Start",
            request,
            StartResponse.getDefaultInstance(),
            options.user(),
            options.timeout()),
        StartResponse::getEvent,
        true,
        null,
        null,
        options.onData());
  }

  @Override
  public void sendInput(int pid, byte[] data) {
    ProcessStream.sendInput(envd, pid, data, true);
  }

  @Override
  public void resize(int pid, PtySize size) {
    requireNonNull(size, "size");
    envd.unary(
        "process.Process/Update",
        UpdateRequest.newBuilder()
            .setProcess(ProcessStream.selector(pid))
            .setPty(pty(size))
            .build(),
        UpdateResponse.getDefaultInstance(),
        null);
  }

  @Override
  public boolean kill(int pid) {
    return ProcessStream.kill(envd, pid);
  }

  private static PTY pty(PtySize size) {
    return PTY.newBuilder()
        .setSize(PTY.Size.newBuilder().setCols(size.cols()).setRows(size.rows()))
        .build();
  }
}
