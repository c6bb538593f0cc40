package dev.sbx.cli.keys;

import dev.sbx.api.store.ApiKey;
import dev.sbx.api.store.CreatedApiKey;
import dev.sbx.api.store.Store;
import dev.sbx.api.store.Team;
import dev.sbx.api.store.TeamLimits;
import dev.sbx.cli.output.Table;
import dev.sbx.cli.server.StoreOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sbx keys}: API keys and teams, on the server's own store (the same data directory or
 * PostgreSQL as the API). A key is shown once, when it is created; only its hash is stored.
 */
@Command(
    name = "keys",
    mixinStandardHelpOptions = true,
    description = "Create, list and revoke API keys (and teams).",
    subcommands = {
      KeysCommand.Create.class,
      KeysCommand.ListKeys.class,
      KeysCommand.Revoke.class,
      KeysCommand.Teams.class
    })
public final class KeysCommand {

  /** Options every keys subcommand shares. */
  static final class Common {
    @Mixin StoreOptions store = new StoreOptions();

    @Option(
        names = "--team",
        description = "Team id (default: the only team, when there is exactly one).")
    @Nullable String team;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Spec(Spec.Target.MIXEE)
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    Team team(Store store) {
      List<Team> teams = store.teams();
      if (team != null) {
        return teams.stream()
            .filter(t -> t.id().equals(team))
            .findFirst()
            .orElseThrow(
                () -> new ParameterException(spec.commandLine(), "no team with id " + team));
      }
      if (teams.size() == 1) {
        return teams.getFirst();
      }
      throw new ParameterException(
          spec.commandLine(),
          teams.isEmpty()
              ? "there is no team yet: start the server once (./sbx up) or use `keys create --new-team`"
              : "there are "
                  + teams.size()
                  + " teams: name one with --team (see `sbx keys teams`)");
    }

    PrintWriter out() {
      return spec.commandLine().getOut();
    }
  }

  @Command(name = "create", mixinStandardHelpOptions = true, description = "Create an API key.")
  static final class Create implements Callable<Integer> {
    @Mixin Common common = new Common();

    @Option(
        names = "--name",
        defaultValue = "cli",
        description = "Key name (default ${DEFAULT-VALUE}).")
    String name = "cli";

    @Option(
        names = "--new-team",
        description = "Create a new team with this name and give it the key.")
    @Nullable String newTeam;

    @Option(
        names = "--concurrency",
        description = "With --new-team: its concurrent sandbox limit (default 20).")
    int concurrency = TeamLimits.BASE.concurrentSandboxes();

    @Override
    public Integer call() {
      try (Store store = common.store.open()) {
        Team team;
        if (newTeam != null) {
          TeamLimits base = TeamLimits.BASE;
          team =
              store.createTeam(
                  newTeam,
                  new TeamLimits(
                      concurrency,
                      base.maxLengthHours(),
                      base.maxVcpu(),
                      base.maxRamMb(),
                      base.requestsPerSecond(),
                      base.requestBurst()));
        } else {
          team = common.team(store);
        }
        CreatedApiKey created = store.createApiKey(team.id(), name);
        PrintWriter out = common.out();
        if (common.json) {
          out.println(
              new JsonObject()
                  .put("id", created.key().id())
                  .put("teamId", team.id())
                  .put("name", created.key().name())
                  .put("key", created.secret())
                  .encode());
        } else {
          out.println(
              "Created key "
                  + created.key().id()
                  + " for team "
                  + team.id()
                  + " ("
                  + team.name()
                  + ").");
          out.println("It is shown only now:");
          out.println("  " + created.secret());
        }
        out.flush();
        return 0;
      }
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List a team's API keys.")
  static final class ListKeys implements Callable<Integer> {
    @Mixin Common common = new Common();

    @Override
    public Integer call() {
      try (Store store = common.store.open()) {
        Team team = common.team(store);
        List<ApiKey> keys = store.apiKeys(team.id());
        PrintWriter out = common.out();
        if (common.json) {
          JsonArray array = new JsonArray();
          for (ApiKey k : keys) {
            array.add(
                new JsonObject()
                    .put("id", k.id())
                    .put("name", k.name())
                    .put("mask", k.mask())
                    .put("createdAt", k.createdAt().toString())
                    .put("lastUsedAt", k.lastUsedAt() == null ? null : k.lastUsedAt().toString())
                    .put("revokedAt", k.revokedAt() == null ? null : k.revokedAt().toString()));
          }
          out.println(array.encode());
        } else {
          Table table = new Table("ID", "NAME", "KEY", "CREATED", "LAST USED", "REVOKED");
          for (ApiKey k : keys) {
            table.row(
                k.id(),
                k.name(),
                k.mask(),
                k.createdAt().toString(),
                k.lastUsedAt() == null ? "-" : k.lastUsedAt().toString(),
                k.revokedAt() == null ? "-" : k.revokedAt().toString());
          }
          table.print(out);
        }
        out.flush();
        return 0;
      }
    }
  }

  @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke an API key.")
  static final class Revoke implements Callable<Integer> {
    @Mixin Common common = new Common();

    @Parameters(paramLabel = "KEY_ID", description = "The key's id (see `sbx keys list`).")
    @SuppressWarnings("NullAway.Init")
    String keyId;

    @Override
    public Integer call() {
      try (Store store = common.store.open()) {
        Team team = common.team(store);
        if (!store.revokeKey(team.id(), keyId)) {
          common
              .spec
              .commandLine()
              .getErr()
              .println("sbx keys revoke: no key " + keyId + " in team " + team.id());
          return 1;
        }
        common.out().println("Revoked " + keyId + ".");
        common.out().flush();
        return 0;
      }
    }
  }

  @Command(name = "teams", mixinStandardHelpOptions = true, description = "List the teams.")
  static final class Teams implements Callable<Integer> {
    @Mixin StoreOptions store = new StoreOptions();

    @Spec
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    @Override
    public Integer call() {
      try (Store opened = store.open()) {
        Table table = new Table("ID", "NAME", "CONCURRENCY", "MAX HOURS", "CREATED");
        for (Team t : opened.teams()) {
          table.row(
              t.id(),
              t.name(),
              String.valueOf(t.limits().concurrentSandboxes()),
              String.valueOf(t.limits().maxLengthHours()),
              t.createdAt().toString());
        }
        table.print(spec.commandLine().getOut());
        spec.commandLine().getOut().flush();
        return 0;
      }
    }
  }
}
