package dev.sbx.cli.doctor;

import dev.sbx.cli.server.OrchestratorOptions;
import dev.sbx.orchestrator.LeakInventory;
import dev.sbx.orchestrator.OrchestratorConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code sbx doctor}: checks what the orchestrator needs on this host, then lists every container,
 * mount, network namespace, veth, cgroup, nftables object and sandbox directory of the layout that
 * no running orchestrator owns. Exit 0 when all is well, 1 when a check failed or something leaked.
 */
@Command(
    name = "doctor",
    mixinStandardHelpOptions = true,
    description = "Check this host for what sbx needs, and for anything sandboxes left behind.")
public final class DoctorCommand implements Callable<Integer> {

  @Mixin OrchestratorOptions orchestrator = new OrchestratorOptions();

  @Spec
  @SuppressWarnings("NullAway.Init")
  CommandSpec spec;

  private int failures;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    OrchestratorConfig config = orchestrator.config(InetAddress.getLoopbackAddress());
    check(
        out, "root", "root".equals(System.getProperty("user.name")), "sbx runs sandboxes as root");
    command(out, "runc", List.of("runc", "--version"));
    command(out, "runsc (gVisor)", List.of("runsc", "--version"));
    command(out, "nft (nftables)", List.of("nft", "--version"));
    command(out, "ip (iproute2)", List.of("ip", "-V"));
    command(out, "mmdebstrap", List.of("mmdebstrap", "--version"));
    check(
        out,
        "overlayfs",
        fileContains(Path.of("/proc/filesystems"), "overlay"),
        "the kernel must offer overlayfs (modprobe overlay)");
    check(
        out,
        "envd's directory " + config.lifecycle().envdDist(),
        Files.isExecutable(config.lifecycle().envdDist().resolve("bin/tini")),
        "build it with ./mvnw -pl envd -am package, or pass --envd-dist");
    check(
        out,
        "base template in " + config.templatesDir(),
        Files.isRegularFile(config.templatesDir().resolve("base/template.json")),
        "./sbx template build-base");
    out.println(
        "cgroups: "
            + (Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers"))
                ? "v2 (unified)"
                : "v1 (hybrid or legacy)"));

    if (listening(config.grpcPort())) {
      out.println(
          "leaks: not checked: an orchestrator listens on :"
              + config.grpcPort()
              + " and owns what it runs; stop it (Ctrl-C on sbx up) and run doctor again");
    } else {
      List<String> leaks = LeakInventory.find(config, null);
      if (leaks.isEmpty()) {
        out.println(
            "leaks: none (no container, mount, netns, veth, cgroup, nft object or sandbox dir left)");
      } else {
        failures++;
        out.println("leaks: " + leaks.size() + " things no orchestrator owns:");
        leaks.forEach(leak -> out.println("  " + leak));
      }
    }
    out.println(failures == 0 ? "doctor: all good" : "doctor: " + failures + " problem(s)");
    out.flush();
    return failures == 0 ? 0 : 1;
  }

  private void check(PrintWriter out, String what, boolean ok, String hint) {
    if (ok) {
      out.println("ok    " + what);
    } else {
      failures++;
      out.println("FAIL  " + what + " — " + hint);
    }
  }

  private void command(PrintWriter out, String what, List<String> command)
      throws InterruptedException {
    String version;
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(10, TimeUnit.SECONDS) || process.exitValue() != 0) {
        check(out, what, false, "`" + String.join(" ", command) + "` failed: " + output.strip());
        return;
      }
      version = output.lines().findFirst().orElse("").strip();
    } catch (IOException e) {
      check(out, what, false, "not installed (./sbx up or scripts/install-deps.sh up installs it)");
      return;
    }
    check(out, what + ": " + version, true, "");
  }

  private static boolean fileContains(Path file, String text) {
    try {
      return Files.readString(file).contains(text);
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean listening(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
