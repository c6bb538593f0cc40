package dev.sbx.cli.sandbox;

import dev.sbx.sdk.ConnectionConfig;
import dev.sbx.sdk.Sandbox;
import dev.sbx.sdk.SandboxInfo;
import dev.sbx.sdk.SandboxOptions;
import dev.sbx.sdk.SandboxPaginator;
import dev.sbx.sdk.SandboxQuery;
import dev.sbx.sdk.SandboxState;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code sbx sandbox}: create, list, inspect, use and kill sandboxes. */
@Command(
    name = "sandbox",
    aliases = "sb",
    mixinStandardHelpOptions = true,
    description = {
      "Create, list, inspect, use and kill sandboxes of an E2B-compatible API.",
      "Connection: E2B_API_KEY, E2B_API_URL, E2B_SANDBOX_URL, E2B_DOMAIN (or the flags).",
      "Exit codes: 0 ok, 1 failed, 2 bad arguments, 3 no or wrong API key, 4 no such sandbox,"
          + " 5 API unreachable; exec and shell exit with the command's code."
    },
    subcommands = {
      SandboxCommand.Create.class,
      SandboxCommand.ListSandboxes.class,
      SandboxCommand.Info.class,
      SandboxCommand.Kill.class,
      SandboxCommand.SetTimeout.class,
      ExecCommand.class,
      ShellCommand.class,
      LogsCommand.class,
    })
public final class SandboxCommand {

  @Command(
      name = "create",
      aliases = "spawn",
      mixinStandardHelpOptions = true,
      description = "Create a sandbox and print its id (it keeps running until its timeout).")
  static final class Create extends SandboxSubcommand {
    @Parameters(
        index = "0",
        arity = "0..1",
        paramLabel = "TEMPLATE",
        description = "Template id or alias (default ${DEFAULT-VALUE}).",
        defaultValue = SandboxOptions.DEFAULT_TEMPLATE)
    String template = SandboxOptions.DEFAULT_TEMPLATE;

    @Option(
        names = "--timeout",
        converter = DurationConverter.class,
        description = "How long it may live, e.g. 10m (default: the API's, 5m on sbx and E2B).")
    @Nullable Duration timeout;

    @Option(
        names = {"-m", "--metadata"},
        paramLabel = "KEY=VALUE",
        description = "Metadata (repeatable).")
    Map<String, String> metadata = new LinkedHashMap<>();

    @Option(
        names = {"-e", "--env"},
        paramLabel = "NAME=VALUE",
        description = "Environment variable of every command in it (repeatable).")
    Map<String, String> env = new LinkedHashMap<>();

    @Option(names = "--secure", description = "Require an access token for envd.")
    boolean secure;

    @Option(names = "--no-internet", description = "No outbound internet access.")
    boolean noInternet;

    @Option(names = "--json", description = "Print JSON (sandboxID, envdVersion, …).")
    boolean json;

    @Override
    int run(ConnectionConfig config) {
      SandboxOptions.Builder options =
          SandboxOptions.builder()
              .connection(config)
              .template(template)
              .metadata(metadata)
              .envs(env);
      if (timeout != null) {
        options.timeout(timeout);
      }
      if (secure) {
        options.secure(true);
      }
      if (noInternet) {
        options.allowInternetAccess(false);
      }
      Sandbox sandbox = Sandbox.create(options.build());
      try {
        PrintWriter out = out();
        if (json) {
          out.println(Render.created(sandbox, template).encode());
        } else {
          out.println(
              "Created sandbox "
                  + sandbox.sandboxId()
                  + " from "
                  + template
                  + " (envd "
                  + sandbox.envdVersion()
                  + ").");
          out.println("  sbx sandbox shell " + sandbox.sandboxId());
          out.println("  sbx sandbox exec " + sandbox.sandboxId() + " -- <command>");
          out.println("  sbx sandbox kill " + sandbox.sandboxId());
        }
        out.flush();
      } finally {
        sandbox.disconnect();
      }
      return 0;
    }
  }

  @Command(
      name = "list",
      aliases = "ls",
      mixinStandardHelpOptions = true,
      description = "List sandboxes (running and paused unless --state says otherwise).")
  static final class ListSandboxes extends SandboxSubcommand {
    @Option(
        names = {"-s", "--state"},
        split = ",",
        paramLabel = "STATE",
        description = "running and/or paused (comma-separated or repeated).")
    List<String> states = new ArrayList<>();

    @Option(
        names = {"-m", "--metadata"},
        paramLabel = "KEY=VALUE",
        description = "Only sandboxes with this metadata (repeatable: all must match).")
    Map<String, String> metadata = new LinkedHashMap<>();

    @Option(names = "--limit", description = "At most this many sandboxes (default: all).")
    @Nullable Integer limit;

    @Option(names = "--json", description = "Print a JSON array.")
    boolean json;

    @Override
    int run(ConnectionConfig config) {
      if (limit != null && limit < 1) {
        err().println(name() + ": --limit must be at least 1");
        return USAGE;
      }
      SandboxQuery.Builder query = SandboxQuery.builder().metadata(metadata);
      List<SandboxState> wanted = new ArrayList<>();
      for (String state : states) {
        try {
          wanted.add(SandboxState.valueOf(state.strip().toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
          err().println(name() + ": unknown state '" + state + "' (running, paused)");
          return USAGE;
        }
      }
      if (!wanted.isEmpty()) {
        query.states(wanted.toArray(SandboxState[]::new));
      }
      if (limit != null) {
        query.limit(Math.min(limit, 100));
      }
      SandboxPaginator pages = Sandbox.list(query.build(), config);
      List<SandboxInfo> sandboxes = new ArrayList<>();
      while (pages.hasNext() && (limit == null || sandboxes.size() < limit)) {
        sandboxes.addAll(pages.nextItems());
      }
      if (limit != null && sandboxes.size() > limit) {
        sandboxes = sandboxes.subList(0, limit);
      }
      if (json) {
        out().println(Render.json(sandboxes));
      } else {
        Render.table(sandboxes, out());
      }
      out().flush();
      return 0;
    }
  }

  @Command(name = "info", mixinStandardHelpOptions = true, description = "Describe a sandbox.")
  static final class Info extends SandboxSubcommand {
    @Parameters(paramLabel = "SANDBOX_ID", description = "The sandbox.")
    @SuppressWarnings("NullAway.Init")
    String sandboxId;

    @Option(names = "--json", description = "Print JSON (the API's fields).")
    boolean json;

    @Override
    int run(ConnectionConfig config) {
      SandboxInfo info = Sandbox.getInfo(sandboxId, config);
      if (json) {
        out().println(Render.json(info).encode());
      } else {
        Render.details(info, Instant.now(), out());
      }
      out().flush();
      return 0;
    }
  }

  @Command(
      name = "kill",
      mixinStandardHelpOptions = true,
      description = "Kill sandboxes: the ones named, or with --all every running one (of -m).")
  static final class Kill extends SandboxSubcommand {
    @Parameters(arity = "0..*", paramLabel = "SANDBOX_ID", description = "The sandboxes.")
    List<String> sandboxIds = new ArrayList<>();

    @Option(
        names = {"-a", "--all"},
        description = "Kill every running sandbox of the team (only those of -m, if given).")
    boolean all;

    @Option(
        names = {"-m", "--metadata"},
        paramLabel = "KEY=VALUE",
        description = "With --all: only sandboxes with this metadata (repeatable).")
    Map<String, String> metadata = new LinkedHashMap<>();

    @Override
    int run(ConnectionConfig config) {
      if (all == !sandboxIds.isEmpty()) {
        err().println(name() + ": name the sandboxes or use --all, not both or neither");
        err().flush();
        return USAGE;
      }
      if (!all && !metadata.isEmpty()) {
        err().println(name() + ": --metadata only filters --all");
        err().flush();
        return USAGE;
      }
      List<String> ids = new ArrayList<>(sandboxIds);
      if (all) {
        SandboxPaginator pages =
            Sandbox.list(
                SandboxQuery.builder()
                    .metadata(metadata)
                    .states(SandboxState.RUNNING)
                    .limit(100)
                    .build(),
                config);
        while (pages.hasNext()) {
          pages.nextItems().forEach(s -> ids.add(s.sandboxId()));
        }
        if (ids.isEmpty()) {
          out().println("No running sandboxes.");
        }
      }
      int exit = 0;
      for (String id : ids) {
        if (Sandbox.kill(id, config)) {
          out().println("Killed " + id + ".");
        } else if (!all) {
          // with --all, one that ended between the list and the kill is no error
          err().println(name() + ": no sandbox " + id);
          exit = NOT_FOUND;
        }
      }
      out().flush();
      err().flush();
      return exit;
    }
  }

  @Command(
      name = "timeout",
      mixinStandardHelpOptions = true,
      description = "Set how long a sandbox may still live, from now (it may shorten it).")
  static final class SetTimeout extends SandboxSubcommand {
    @Parameters(index = "0", paramLabel = "SANDBOX_ID", description = "The sandbox.")
    @SuppressWarnings("NullAway.Init")
    String sandboxId;

    @Parameters(
        index = "1",
        paramLabel = "DURATION",
        converter = DurationConverter.class,
        description = "e.g. 300, 10m, 1h.")
    @SuppressWarnings("NullAway.Init")
    Duration timeout;

    @Override
    int run(ConnectionConfig config) {
      Sandbox.setTimeout(sandboxId, timeout, config);
      SandboxInfo info = Sandbox.getInfo(sandboxId, config);
      out()
          .println(
              "Sandbox "
                  + sandboxId
                  + " ends at "
                  + Render.time(info.endAt())
                  + " ("
                  + Render.until(Instant.now(), info.endAt())
                  + ").");
      out().flush();
      return 0;
    }
  }
}
