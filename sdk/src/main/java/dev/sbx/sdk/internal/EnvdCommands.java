package dev.sbx.sdk.internal;

import static java.util.Objects.requireNonNull;

import dev.sbx.proto.process.CloseStdinRequest;
import dev.sbx.proto.process.CloseStdinResponse;
import dev.sbx.proto.process.ConnectRequest;
import dev.sbx.proto.process.ConnectResponse;
import dev.sbx.proto.process.ListRequest;
import dev.sbx.proto.process.ListResponse;
import dev.sbx.proto.process.ProcessConfig;
import dev.sbx.proto.process.StartRequest;
import dev.sbx.proto.process.StartResponse;
import dev.sbx.sdk.SandboxException;
import dev.sbx.sdk.commands.CommandHandle;
import dev.sbx.sdk.commands.CommandOptions;
import dev.sbx.sdk.commands.Commands;
import dev.sbx.sdk.commands.ProcessInfo;
import java.util.ArrayList;
import java.util.List;

/** {@link Commands} over envd's {@code process.Process} service. */
public final class EnvdCommands implements Commands {
  private final EnvdClient envd;

  public EnvdCommands(EnvdClient envd) {
    this.envd = requireNonNull(envd, "envd");
  }

  @Override
  public CommandHandle start(String cmd, CommandOptions options) {
    requireNonNull(cmd, "cmd");
    requireNonNull(options, "options");
    ProcessConfig.Builder process =
        ProcessConfig.newBuilder().setCmd("/bin/bash").addArgs("-l").addArgs("-c").addArgs(cmd);
    process.putAllEnvs(options.envs());
    if (options.cwd() != null) {
      process.setCwd(options.cwd());
    }
    StartRequest.Builder request = StartRequest.newBuilder().setProcess(process);
    // envd < 0.3.0 always keeps stdin open and does not know the field (E2B sends nothing)
    if (envd.version().atLeast(EnvdVersion.V0_3_0)) {
      request.setStdin(options.stdin());
    }
    return ProcessStream.open(
        envd,
        envd.stream(
            "process.Process/Start",
            request.build(),
            StartResponse.getDefaultInstance(),
            options.user(),
            options.timeout()),
        StartResponse::getEvent,
        false,
        options.onStdout(),
        options.onStderr(),
        null);
  }

  @Override
  public List<ProcessInfo> list() {
    ListResponse response =
        envd.unary(
            "process.Process/List",
            ListRequest.getDefaultInstance(),
            ListResponse.getDefaultInstance(),
            null);
    List<ProcessInfo> processes = new ArrayList<>();
    for (dev.sbx.proto.process.ProcessInfo p : response.getProcessesList()) {
      ProcessConfig config = p.getConfig();
      processes.add(
          new ProcessInfo(
              p.getPid(),
              p.hasTag() ? p.getTag() : null,
              config.getCmd(),
              config.getArgsList(),
              config.getEnvsMap(),
              config.hasCwd() ? config.getCwd() : null));
    }
    return processes;
  }

  @Override
  public CommandHandle connect(int pid, CommandOptions options) {
    requireNonNull(options, "options");
    return ProcessStream.open(
        envd,
        envd.stream(
            "process.Process/Connect",
            ConnectRequest.newBuilder().setProcess(ProcessStream.selector(pid)).build(),
            ConnectResponse.getDefaultInstance(),
            null,
            options.timeout()),
        ConnectResponse::getEvent,
        false,
        options.onStdout(),
        options.onStderr(),
        null);
  }

  @Override
  public boolean kill(int pid) {
    return ProcessStream.kill(envd, pid);
  }

  @Override
  public void sendStdin(int pid, byte[] data) {
    ProcessStream.sendInput(envd, pid, data, false);
  }

  @Override
  public void closeStdin(int pid) {
    if (!envd.version().atLeast(EnvdVersion.V0_5_2)) {
      throw new SandboxException(
          "closeStdin needs envd 0.5.2 or newer; this sandbox runs envd " + envd.version());
    }
    envd.unary(
        "process.Process/CloseStdin",
        CloseStdinRequest.newBuilder().setProcess(ProcessStream.selector(pid)).build(),
        CloseStdinResponse.getDefaultInstance(),
        null);
  }
}
