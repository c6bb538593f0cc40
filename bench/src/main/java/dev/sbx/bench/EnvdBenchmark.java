package dev.sbx.bench;

import com.google.protobuf.ByteString;
import dev.sbx.connect.CallOptions;
import dev.sbx.connect.ConnectClient;
import dev.sbx.connect.ServerStream;
import dev.sbx.proto.process.ProcessConfig;
import dev.sbx.proto.process.ProcessEvent;
import dev.sbx.proto.process.StartRequest;
import dev.sbx.proto.process.StartResponse;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * envd's numbers: start to first {@code /health}, idle memory (RSS, PSS, private) and memory after
 * many commands, the round trip of a command, file upload and download throughput. Prints Markdown
 * tables with one column per variant, so that a before/after comparison is one run on one machine
 * under one load: starts and command batches alternate between the variants.
 *
 * <p>Usage: {@code EnvdBenchmark [--work DIR] [--no-files] VARIANT [+NAME=VALUE...] ...}, where a
 * variant is an envd dist directory or {@code label=dir}, and each {@code +NAME=VALUE} after it is
 * an environment variable of that variant's envd (e.g. {@code +ENVD_JAVA_OPTS=-Xss256k}).
 */
public final class EnvdBenchmark {
  private static final Duration START_LIMIT = Duration.ofSeconds(30);
  private static final int STARTS = 10;
  private static final int WARMUP_COMMANDS = 100;
  private static final int COMMANDS = 500;
  private static final int BATCH = 50;

  /** One envd to measure: a dist and extra environment. */
  record Variant(String label, Path dist, Map<String, String> env) {}

  private final List<Variant> variants;
  private final Path workDir;
  private final HttpClient http = HttpClient.newHttpClient();

  private EnvdBenchmark(List<Variant> variants, Path workDir) {
    this.variants = variants;
    this.workDir = workDir;
  }

  public static void main(String[] args) throws Exception {
    List<String> labels = new ArrayList<>();
    List<Path> dists = new ArrayList<>();
    List<Map<String, String>> envs = new ArrayList<>();
    Path work = null;
    boolean files = true;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (arg.equals("--work") && i + 1 < args.length) {
        work = Path.of(args[++i]);
      } else if (arg.equals("--no-files")) {
        files = false;
      } else if (arg.startsWith("+") && arg.indexOf('=') > 1 && !envs.isEmpty()) {
        envs.getLast().put(arg.substring(1, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
      } else {
        int eq = arg.indexOf('=');
        Path dir = Path.of(eq > 0 ? arg.substring(eq + 1) : arg).toAbsolutePath();
        labels.add(eq > 0 ? arg.substring(0, eq) : dir.toString());
        dists.add(dir);
        envs.add(new LinkedHashMap<>());
      }
    }
    if (dists.isEmpty()) {
      System.err.println(
          "usage: EnvdBenchmark [--work DIR] [--no-files] [label=]<envd-dist-dir> [+NAME=VALUE...]"
              + " ...");
      System.exit(2);
    }
    List<Variant> variants = new ArrayList<>();
    for (int i = 0; i < dists.size(); i++) {
      variants.add(new Variant(labels.get(i), dists.get(i), Map.copyOf(envs.get(i))));
    }
    if (work == null) {
      work = Files.createTempDirectory("sbx-bench-envd-files");
    }
    System.out.println("## envd — " + Machine.describe());
    System.out.println();
    for (Variant variant : variants) {
      System.out.println("- `" + variant.label() + "`: " + variant.dist() + " " + variant.env());
    }
    System.out.println("- load average (1 min) at the start: " + Machine.loadAverage());
    System.out.println();
    new EnvdBenchmark(variants, work).run(files);
  }

  private void run(boolean files) throws Exception {
    Table table = new Table(variants);
    startUp(table);
    List<EnvdProcess> running = new ArrayList<>();
    List<ConnectClient> clients = new ArrayList<>();
    Path home = Files.createTempDirectory(workDir, "home");
    try {
      for (Variant variant : variants) {
        EnvdProcess envd = EnvdProcess.start(variant.dist(), variant.env());
        running.add(envd);
        envd.awaitHealthy(http, START_LIMIT);
      }
      Thread.sleep(2000);
      for (int v = 0; v < variants.size(); v++) {
        Machine.Memory idle = Machine.memory(running.get(v).handle());
        table.put("idle RSS (2 s after start)", v, mib(idle.rssKb()));
        table.put("idle PSS, alone", v, mib(idle.pssKb()));
        table.put("idle private (clean + dirty)", v, mib(idle.privateKb()));
        table.put("idle anonymous", v, mib(idle.anonymousKb()));
      }
      // A second envd of the same dist, as on a host with many sandboxes: the file pages both
      // map (libjvm, the AOT cache when it is not relocated) count half in each one's PSS.
      for (int v = 0; v < variants.size(); v++) {
        try (EnvdProcess twin = EnvdProcess.start(variants.get(v).dist(), variants.get(v).env())) {
          twin.awaitHealthy(http, START_LIMIT);
          Thread.sleep(2000);
          Machine.Memory idle = Machine.memory(running.get(v).handle());
          table.put("idle PSS with a second idle envd of the same dist", v, mib(idle.pssKb()));
        }
      }
      for (int v = 0; v < variants.size(); v++) {
        clients.add(ConnectClient.builder(running.get(v).baseUri()).build());
      }
      // A login shell reads the user's profile; on a build host root's profile may run anything
      // (pyenv, nvm), so the login shell gets a fresh, empty home, as a sandbox user's would be.
      List<ProcessHandle> handles = running.stream().map(EnvdProcess::handle).toList();
      double[] bashCpu = new double[variants.size()];
      double[] directCpu = new double[variants.size()];
      List<Samples> bash =
          commandRoundTrips(
              clients,
              handles,
              bashCpu,
              "/bin/bash",
              List.of("-l", "-c", "true"),
              Map.of("HOME", home.toString()));
      List<Samples> direct =
          commandRoundTrips(clients, handles, directCpu, "/bin/true", List.of(), Map.of());
      for (int v = 0; v < variants.size(); v++) {
        table.put(
            "`commands.run('true')` (`/bin/bash -l -c true`), p50 / p99",
            v,
            roundTrip(bash.get(v)));
        table.put(
            "  CPU per `commands.run('true')`: envd + its children",
            v,
            String.format("%.2f ms", bashCpu[v]));
        table.put("`/bin/true` through envd, p50 / p99", v, roundTrip(direct.get(v)));
        table.put(
            "  CPU per `/bin/true`: envd + its children",
            v,
            String.format("%.2f ms", directCpu[v]));
        table.put(
            "RSS after " + 2 * (WARMUP_COMMANDS + COMMANDS) + " commands",
            v,
            mib(Machine.memory(running.get(v).handle()).rssKb()));
        table.put(
            "baseline: `GET /health`, p50 / p99",
            v,
            roundTrip(healthRoundTrips(running.get(v).baseUri())));
      }
      Samples spawn = localSpawns(List.of("/bin/true"), Map.of());
      Samples spawnBash =
          localSpawns(List.of("/bin/bash", "-l", "-c", "true"), Map.of("HOME", home.toString()));
      for (int v = 0; v < variants.size(); v++) {
        table.put(
            "baseline: `/bin/true` by `ProcessBuilder` in the bench JVM", v, roundTrip(spawn));
        table.put(
            "baseline: `/bin/bash -l -c true` by `ProcessBuilder` in the bench JVM",
            v,
            roundTrip(spawnBash));
        table.put("load average (1 min) at the end", v, Machine.loadAverage());
      }
      table.print();
      if (files) {
        System.out.println();
        for (int v = 0; v < variants.size(); v++) {
          System.out.println("files, `" + variants.get(v).label() + "`:");
          System.out.println();
          fileThroughput(running.get(v).baseUri());
          System.out.println();
        }
      }
    } finally {
      for (ConnectClient client : clients) {
        client.close();
      }
      for (EnvdProcess envd : running) {
        envd.close();
      }
      Files.deleteIfExists(home);
    }
  }

  private static String mib(long kb) {
    return String.format("%.1f MiB", kb / 1024.0);
  }

  private static String roundTrip(Samples samples) {
    return String.format(
        "%.2f / %.2f ms", samples.percentileMillis(50), samples.percentileMillis(99));
  }

  /** Start-up of each variant, with and without its AOT cache, the variants taking turns. */
  private void startUp(Table table) throws Exception {
    for (boolean aot : new boolean[] {true, false}) {
      List<Samples> samples = new ArrayList<>();
      variants.forEach(v -> samples.add(new Samples(STARTS)));
      for (int i = 0; i < STARTS; i++) {
        for (int v = 0; v < variants.size(); v++) {
          Map<String, String> env = new LinkedHashMap<>(variants.get(v).env());
          if (!aot) {
            env.put("ENVD_AOT", "off");
          }
          try (EnvdProcess envd = EnvdProcess.start(variants.get(v).dist(), env)) {
            samples.get(v).add(envd.awaitHealthy(http, START_LIMIT));
          }
        }
      }
      for (int v = 0; v < variants.size(); v++) {
        Samples s = samples.get(v);
        table.put(
            "start → first `/health` 204, "
                + (aot ? "AOT cache" : "no AOT cache")
                + ", p50 / min ("
                + STARTS
                + ")",
            v,
            String.format("%.0f / %.0f ms", s.percentileMillis(50), s.percentileMillis(0)));
      }
    }
  }

  /** Rows of measures, one column per variant, printed in the order the rows were first put. */
  private static final class Table {
    private final List<Variant> variants;
    private final Map<String, String[]> rows = new LinkedHashMap<>();

    Table(List<Variant> variants) {
      this.variants = variants;
    }

    void put(String row, int variant, String value) {
      rows.computeIfAbsent(row, r -> new String[variants.size()])[variant] = value;
    }

    void print() {
      StringBuilder head = new StringBuilder("| measure |");
      StringBuilder rule = new StringBuilder("|---|");
      for (Variant variant : variants) {
        head.append(" `").append(variant.label()).append("` |");
        rule.append("---|");
      }
      System.out.println(head);
      System.out.println(rule);
      rows.forEach(
          (row, values) -> {
            StringBuilder line = new StringBuilder("| ").append(row).append(" |");
            for (String value : values) {
              line.append(' ').append(value == null ? "–" : value).append(" |");
            }
            System.out.println(line);
          });
    }
  }

  /**
   * Round trips of one command on each client, in batches that take turns; {@code cpuMillis[c]}
   * gets the CPU time envd {@code c} and its reaped children spent per measured command (user +
   * system, from {@code /proc}): the number that a loaded machine does not blur.
   */
  private static List<Samples> commandRoundTrips(
      List<ConnectClient> clients,
      List<ProcessHandle> envds,
      double[] cpuMillis,
      String cmd,
      List<String> args,
      Map<String, String> envs) {
    StartRequest request =
        StartRequest.newBuilder()
            .setProcess(ProcessConfig.newBuilder().setCmd(cmd).addAllArgs(args).putAllEnvs(envs))
            .setStdin(false)
            .build();
    CallOptions options = CallOptions.builder().header("Keepalive-Ping-Interval", "50").build();
    for (ConnectClient client : clients) {
      for (int i = 0; i < WARMUP_COMMANDS; i++) {
        runToEnd(client, request, options);
      }
    }
    List<Samples> samples = new ArrayList<>();
    clients.forEach(c -> samples.add(new Samples(COMMANDS)));
    for (int done = 0; done < COMMANDS; done += BATCH) {
      for (int c = 0; c < clients.size(); c++) {
        double cpuBefore = Machine.cpuMillis(envds.get(c));
        for (int i = done; i < Math.min(COMMANDS, done + BATCH); i++) {
          long start = System.nanoTime();
          runToEnd(clients.get(c), request, options);
          samples.get(c).add(System.nanoTime() - start);
        }
        cpuMillis[c] += (Machine.cpuMillis(envds.get(c)) - cpuBefore) / COMMANDS;
      }
    }
    return samples;
  }

  /** How long this machine takes to fork, exec and reap {@code /bin/true}, without envd. */
  /** A command forked by this JVM, without envd: what a command costs on this machine at best. */
  private static Samples localSpawns(List<String> command, Map<String, String> env)
      throws IOException, InterruptedException {
    ProcessBuilder spawn = new ProcessBuilder(command);
    spawn.environment().putAll(env);
    for (int i = 0; i < WARMUP_COMMANDS; i++) {
      spawn.start().waitFor();
    }
    Samples samples = new Samples(COMMANDS);
    for (int i = 0; i < COMMANDS; i++) {
      long start = System.nanoTime();
      spawn.start().waitFor();
      samples.add(System.nanoTime() - start);
    }
    return samples;
  }

  private Samples healthRoundTrips(URI base) throws IOException, InterruptedException {
    HttpRequest health = HttpRequest.newBuilder(base.resolve("/health")).build();
    for (int i = 0; i < WARMUP_COMMANDS; i++) {
      http.send(health, HttpResponse.BodyHandlers.discarding());
    }
    Samples samples = new Samples(COMMANDS);
    for (int i = 0; i < COMMANDS; i++) {
      long start = System.nanoTime();
      http.send(health, HttpResponse.BodyHandlers.discarding());
      samples.add(System.nanoTime() - start);
    }
    return samples;
  }

  private static void runToEnd(ConnectClient client, StartRequest request, CallOptions options) {
    try (ServerStream<StartResponse> stream =
        client.serverStream(
            "process.Process/Start", request, StartResponse.getDefaultInstance(), options)) {
      for (StartResponse response : stream) {
        if (response.getEvent().getEventCase() == ProcessEvent.EventCase.END) {
          if (response.getEvent().getEnd().getExitCode() != 0) {
            throw new IllegalStateException("command failed: " + response);
          }
          return;
        }
      }
      throw new IllegalStateException("stream ended without an end event");
    }
  }

  private static void printRoundTrip(String what, Samples samples) {
    System.out.printf(
        "| %s round trip, p50 / p99 (%d runs) | %.2f ms / %.2f ms |%n",
        what, samples.size(), samples.percentileMillis(50), samples.percentileMillis(99));
  }

  private void fileThroughput(URI base) throws IOException, InterruptedException {
    System.out.println("| file size | upload (octet-stream) | upload (multipart) | download |");
    System.out.println("|---|---|---|---|");
    for (int mib : new int[] {1, 100}) {
      byte[] data = new byte[mib << 20];
      ThreadLocalRandom.current().nextBytes(data);
      int runs = mib == 1 ? 30 : 3;
      Samples octet = new Samples(runs);
      Samples multipart = new Samples(runs);
      Samples download = new Samples(runs);
      String path = workDir.resolve("bench-" + mib + "m.bin").toString();
      URI uri = base.resolve("/files?path=" + URLEncoder.encode(path, StandardCharsets.UTF_8));
      for (int i = 0; i < runs; i++) {
        octet.add(timed(upload(uri, "application/octet-stream", data)));
        String boundary = "sbxbench" + i;
        multipart.add(
            timed(
                upload(
                    uri, "multipart/form-data; boundary=" + boundary, multipart(boundary, data))));
        long start = System.nanoTime();
        HttpResponse<byte[]> got =
            http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofByteArray());
        download.add(System.nanoTime() - start);
        if (got.statusCode() != 200 || got.body().length != data.length) {
          throw new IllegalStateException("download failed: " + got.statusCode());
        }
      }
      System.out.printf(
          "| %d MiB (p50 of %d) | %s | %s | %s |%n",
          mib, runs, rate(mib, octet), rate(mib, multipart), rate(mib, download));
      Files.deleteIfExists(Path.of(path));
    }
  }

  private HttpRequest upload(URI uri, String contentType, byte[] body) {
    return HttpRequest.newBuilder(uri)
        .header("Content-Type", contentType)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
        .build();
  }

  private long timed(HttpRequest request) throws IOException, InterruptedException {
    long start = System.nanoTime();
    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
    long elapsed = System.nanoTime() - start;
    if (response.statusCode() != 200) {
      throw new IllegalStateException(
          "upload failed: " + response.statusCode() + " " + response.body());
    }
    return elapsed;
  }

  private static byte[] multipart(String boundary, byte[] data) {
    byte[] head =
        ("--"
                + boundary
                + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bench.bin\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII);
    return ByteString.copyFrom(head)
        .concat(ByteString.copyFrom(data))
        .concat(ByteString.copyFrom(tail))
        .toByteArray();
  }

  private static String rate(int mib, Samples samples) {
    double ms = samples.percentileMillis(50);
    return String.format("%.0f MiB/s (%.1f ms)", mib / (ms / 1000.0), ms);
  }
}
