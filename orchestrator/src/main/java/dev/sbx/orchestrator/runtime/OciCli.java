package dev.sbx.orchestrator.runtime;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The commands that runc and runsc share ({@code state}, {@code list --format json}, {@code exec},
 * {@code delete --force}), run with the binary's global flags on the containers {@code
 * <prefix><sandboxId>}.
 */
final class OciCli {
  /** How long a runtime command may take. */
  static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final String name;
  private final List<String> global;
  private final String containerPrefix;

  /**
   * @param name the binary's name in messages ("runc")
   * @param global the binary and its global flags
   * @param containerPrefix what a sandbox id gets in front to be a container id
   */
  OciCli(String name, List<String> global, String containerPrefix) {
    this.name = name;
    this.global = List.copyOf(global);
    this.containerPrefix = containerPrefix;
  }

  String containerId(String sandboxId) {
    return containerPrefix + sandboxId;
  }

  /** The binary, its global flags, then {@code args}. */
  List<String> command(String... args) {
    List<String> command = new ArrayList<>(global);
    command.addAll(List.of(args));
    return command;
  }

  HostCommand.Result run(String... args) {
    return HostCommand.run(command(args), TIMEOUT);
  }

  /** The sandbox's container as {@code state} reports it, or empty if it does not exist. */
  Optional<RuntimeSandbox> state(String sandboxId) {
    HostCommand.Result result = run("state", containerId(sandboxId));
    if (!result.succeeded()) {
      if (isMissing(result)) {
        return Optional.empty();
      }
      throw new SandboxRuntimeException(
          name + " state " + containerId(sandboxId) + " failed: " + result.error());
    }
    return Optional.of(sandbox(sandboxId, parse(result.stdout(), "state").getAsJsonObject()));
  }

  /** The containers with the prefix, by sandbox id, in {@code list}'s order. */
  Map<String, RuntimeSandbox> list() {
    HostCommand.Result result = run("list", "--format", "json");
    if (!result.succeeded()) {
      throw new SandboxRuntimeException(name + " list failed: " + result.error());
    }
    Map<String, RuntimeSandbox> sandboxes = new LinkedHashMap<>();
    JsonElement parsed = parse(result.stdout(), "list");
    if (parsed.isJsonArray()) { // runsc prints null when there is none
      for (JsonElement element : parsed.getAsJsonArray()) {
        JsonObject container = element.getAsJsonObject();
        String id = container.get("id").getAsString();
        if (id.startsWith(containerPrefix)) {
          String sandboxId = id.substring(containerPrefix.length());
          sandboxes.put(sandboxId, sandbox(sandboxId, container));
        }
      }
    }
    return sandboxes;
  }

  /** Runs {@code command} in the container: the process of its config.json with other args. */
  ExecResult exec(String sandboxId, List<String> command, Duration timeout) {
    return exec(sandboxId, command, timeout, List.of());
  }

  /** {@code exec} with {@code capabilities} ({@code CAP_…}) added to the process's sets. */
  ExecResult exec(
      String sandboxId, List<String> command, Duration timeout, List<String> capabilities) {
    if (command.isEmpty()) {
      throw new IllegalArgumentException("empty command");
    }
    List<String> args = command("exec");
    for (String capability : capabilities) {
      args.add("--cap");
      args.add(capability);
    }
    args.add(containerId(sandboxId));
    args.addAll(command);
    HostCommand.Result result = HostCommand.run(args, timeout);
    return new ExecResult(result.exitCode(), result.stdout(), result.stderr());
  }

  /** Deletes the sandbox's container, killing it; nothing if it does not exist. */
  void delete(String sandboxId) {
    String container = containerId(sandboxId);
    HostCommand.Result deleted = run("delete", "--force", container);
    if (!deleted.succeeded() && !isMissing(deleted)) {
      throw new SandboxRuntimeException(
          name + " delete " + container + " failed: " + deleted.error());
    }
  }

  private RuntimeSandbox sandbox(String sandboxId, JsonObject container) {
    String status = container.get("status").getAsString();
    SandboxState state =
        switch (status) {
          case "created" -> SandboxState.CREATED;
          case "running" -> SandboxState.RUNNING;
          case "paused", "pausing" -> SandboxState.PAUSED;
          case "stopped" -> SandboxState.STOPPED;
          default -> throw new SandboxRuntimeException("unknown " + name + " status: " + status);
        };
    JsonElement pid = container.get("pid");
    return new RuntimeSandbox(
        sandboxId,
        state,
        state == SandboxState.STOPPED || pid == null || pid.isJsonNull() ? 0 : pid.getAsInt());
  }

  private static boolean isMissing(HostCommand.Result result) {
    return result.stderr().contains("does not exist");
  }

  private JsonElement parse(String json, String command) {
    try {
      return JsonParser.parseString(json);
    } catch (JsonParseException e) {
      throw new SandboxRuntimeException(name + " " + command + " printed no JSON: " + json, e);
    }
  }
}
