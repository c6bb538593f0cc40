package dev.sbx.sdk;

import dev.sbx.sdk.commands.*;
import dev.sbx.sdk.files.*;
import dev.sbx.sdk.pty.*;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/** The example of README.md, compiled with the tests (it needs a server to run). */
final class ReadmeExample {
  public static void main(String[] args) throws Exception {
    // configured from E2B_API_KEY, E2B_API_URL, E2B_SANDBOX_URL, E2B_DOMAIN
    try (Sandbox sandbox =
        Sandbox.create(
            SandboxOptions.builder()
                .template("base")
                .timeout(Duration.ofMinutes(5))
                .metadata("owner", "me")
                .env("GREETING", "hi")
                .build())) {

      // foreground, with streamed output
      CommandResult result =
          sandbox
              .commands()
              .run(
                  "python3 -c 'print(1+1)'",
                  CommandOptions.builder().onStdout(System.out::print).build());
      System.out.println("exit " + result.exitCode() + ": " + result.stdout());

      // a non-zero exit throws, with the output attached
      try {
        sandbox.commands().run("exit 3");
      } catch (CommandExitException e) {
        System.out.println("exited " + e.exitCode());
      }

      // background, with stdin
      CommandHandle cat =
          sandbox.commands().start("cat", CommandOptions.builder().stdin(true).build());
      cat.sendStdin("hello\n");
      sandbox.commands().closeStdin(cat.pid());
      System.out.println(cat.waitFor().stdout());

      // files
      sandbox.files().write("/home/user/notes.txt", "some notes");
      sandbox.files().write(List.of(WriteEntry.of("a.txt", "A"), WriteEntry.of("dir/b.txt", "B")));
      System.out.println(sandbox.files().read("/home/user/notes.txt"));
      for (EntryInfo entry : sandbox.files().list("/home/user", 2)) {
        System.out.println(entry.type() + " " + entry.path());
      }
      try (WatchHandle watch =
          sandbox
              .files()
              .watchDir(
                  "/home/user",
                  event -> System.out.println(event.type() + " " + event.name()),
                  WatchOptions.builder().recursive(true).build())) {
        sandbox.files().write("/home/user/watched.txt", "x");
        Thread.sleep(500);
      }

      // an interactive terminal
      CommandHandle shell =
          sandbox
              .pty()
              .create(
                  PtyOptions.builder(80, 24)
                      .onData(bytes -> System.out.print(new String(bytes, StandardCharsets.UTF_8)))
                      .timeout(Duration.ZERO)
                      .build());
      sandbox.pty().sendInput(shell.pid(), "echo from the pty; exit\n");
      shell.waitFor();

      System.out.println(sandbox.getInfo() + " reachable at " + sandbox.getHost(8080));
      sandbox.setTimeout(Duration.ofMinutes(10));
    } // close() kills the sandbox

    // list running sandboxes, page by page
    SandboxPaginator pages =
        Sandbox.list(
            SandboxQuery.builder()
                .metadata("owner", "me")
                .states(SandboxState.RUNNING)
                .limit(50)
                .build());
    while (pages.hasNext()) {
      pages.nextItems().forEach(info -> System.out.println(info.sandboxId()));
    }
  }
}
