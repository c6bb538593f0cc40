package dev.sbx.cli.sandbox;

import dev.sbx.sdk.ConnectionConfig;
import dev.sbx.sdk.NotFoundException;
import dev.sbx.sdk.Sandbox;
import dev.sbx.sdk.SandboxLogEntry;
import dev.sbx.sdk.SandboxLogQuery;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code sbx sandbox logs <id>}: the sandbox's log from the API ({@code GET
 * /v2/sandboxes/{id}/logs}), also of a sandbox that has ended; {@code --follow} polls for new
 * entries until the sandbox is gone.
 */
@Command(
    name = "logs",
    mixinStandardHelpOptions = true,
    description = "Print a sandbox's log (lifecycle events); --follow keeps printing new entries.")
public final class LogsCommand extends SandboxSubcommand {
  @Parameters(paramLabel = "SANDBOX_ID", description = "The sandbox.")
  @SuppressWarnings("NullAway.Init")
  String sandboxId;

  @Option(
      names = {"-f", "--follow"},
      description = "Keep printing new entries until the sandbox has ended (or Ctrl-C).")
  boolean follow;

  @Option(names = "--level", description = "Lowest level: debug, info, warn, error.")
  @Nullable String level;

  @Option(names = "--search", description = "Only entries whose message contains this text.")
  @Nullable String search;

  @Option(
      names = "--since",
      converter = DurationConverter.class,
      description = "Only entries of the last DURATION, e.g. 10m.")
  @Nullable Duration since;

  @Option(
      names = "--poll",
      converter = DurationConverter.class,
      description = "With --follow: how often to ask (default ${DEFAULT-VALUE}).",
      defaultValue = "1s")
  Duration poll = Duration.ofSeconds(1);

  @Option(names = "--json", description = "One JSON object per line (the API's SandboxLogEntry).")
  boolean json;

  @Override
  int run(ConnectionConfig config) throws InterruptedException {
    Instant cursor = since == null ? null : Instant.now().minus(since);
    // entries at the cursor's millisecond come again on the next page: print each once
    Set<SandboxLogEntry> printed = new HashSet<>();
    while (true) {
      // asked before reading, so that the entries of its end are read after it
      boolean alive = follow && running(config);
      int got;
      do {
        SandboxLogQuery.Builder query = SandboxLogQuery.builder().limit(1000);
        if (cursor != null) {
          query.cursor(cursor);
        }
        if (level != null) {
          query.level(level);
        }
        if (search != null) {
          query.search(search);
        }
        List<SandboxLogEntry> entries = Sandbox.getLogs(sandboxId, query.build(), config);
        got = entries.size();
        int fresh = 0;
        for (SandboxLogEntry e : entries) {
          if (printed.add(e)) {
            out().println(json ? Render.json(e) : Render.line(e));
            fresh++;
          }
          cursor = e.timestamp().truncatedTo(ChronoUnit.MILLIS);
        }
        out().flush();
        Instant at = cursor;
        if (at != null) {
          printed.removeIf(e -> e.timestamp().isBefore(at));
        }
        if (fresh == 0) {
          break;
        }
      } while (got >= 1000);
      if (!alive) {
        return 0;
      }
      Thread.sleep(poll);
    }
  }

  private boolean running(ConnectionConfig config) {
    try {
      Sandbox.getInfo(sandboxId, config);
      return true;
    } catch (NotFoundException e) {
      return false;
    }
  }
}
