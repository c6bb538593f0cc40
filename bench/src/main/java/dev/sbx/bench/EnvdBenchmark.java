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
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * envd's numbers: start to first {@code /health}, idle memory and memory after many commands, the
 * round trip of a command, file upload and download throughput. Prints Markdown tables.
 *
 * <p>Usage: {@code EnvdBenchmark <envd-dist-dir> [work-dir]}.
 */
public final class EnvdBenchmark {
  private static final Duration START_LIMIT = Duration.ofSeconds(30);
  private static final int STARTS = 10;
  private static final int WARMUP_COMMANDS = 100;
  private static final int COMMANDS = 500;

  private final Path dist;
  private final Path workDir;
  private final HttpClient http = HttpClient.newHttpClient();

  private EnvdBenchmark(Path dist, Path workDir) {
    this.dist = dist;
    this.workDir = workDir;
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: EnvdBenchmark <envd-dist-dir> [work-dir]");
      System.exit(2);
    }
    Path dist = Path.of(args[0]).toAbsolutePath();
    Path work =
        args.length > 1 ? Path.of(args[1]) : Files.createTempDirectory("sbx-bench-envd-files");
    System.out.println("## envd — " + Machine.describe());
    System.out.println();
    new EnvdBenchmark(dist, work).run();
  }

  private void run() throws Exception {
    startUp();
    try (EnvdProcess envd = EnvdProcess.start(dist, Map.of())) {
      envd.awaitHealthy(http, START_LIMIT);
      Thread.sleep(1000);
      double idleRss = Machine.rssMib(envd.handle());
      try (ConnectClient client = ConnectClient.builder(envd.baseUri()).build()) {
        // A login shell reads the user's profile; on a build host root's profile may run anything
        // (pyenv, nvm), so the login shell gets a fresh, empty home, as a sandbox user's would be.
        Path home = Files.createTempDirectory(workDir, "home");
        Samples bash =
            commandRoundTrips(
                client, "/bin/bash", List.of("-l", "-c", "true"), Map.of("HOME", home.toString()));
        Samples direct = commandRoundTrips(client, "/bin/true", List.of(), Map.of());
        Files.delete(home);
        Samples spawn = localSpawns();
        Samples health = healthRoundTrips(envd.baseUri());
        double busyRss = Machine.rssMib(envd.handle());
        System.out.println("| measure | value |");
        System.out.println("|---|---|");
        System.out.printf("| idle RSS after start | %.1f MiB |%n", idleRss);
        System.out.printf(
            "| RSS after %d commands | %.1f MiB |%n", 2 * (WARMUP_COMMANDS + COMMANDS), busyRss);
        System.out.printf("| load average (1 min) at the end | %s |%n", Machine.loadAverage());
        printRoundTrip("`commands.run('true')` (`/bin/bash -l -c true`)", bash);
        printRoundTrip("`/bin/true` started directly", direct);
        printRoundTrip(
            "baseline: `/bin/true` forked by this JVM (`ProcessBuilder`), no envd", spawn);
        printRoundTrip("baseline: `GET /health`", health);
      }
      System.out.println();
      fileThroughput(envd.baseUri());
    }
  }

  private void startUp() throws Exception {
    System.out.println("| envd start → first `/health` 204 | p50 | min | max |");
    System.out.println("|---|---|---|---|");
    for (boolean aot : new boolean[] {true, false}) {
      Samples samples = new Samples(STARTS);
      for (int i = 0; i < STARTS; i++) {
        try (EnvdProcess envd =
            EnvdProcess.start(dist, aot ? Map.of() : Map.of("ENVD_AOT", "off"))) {
          samples.add(envd.awaitHealthy(http, START_LIMIT));
        }
      }
      System.out.printf(
          "| %s (%d starts) | %.0f ms | %.0f ms | %.0f ms |%n",
          aot ? "with AOT cache" : "without AOT cache",
          samples.size(),
          samples.percentileMillis(50),
          samples.percentileMillis(0),
          samples.percentileMillis(100));
    }
    System.out.println();
  }

  private static Samples commandRoundTrips(
      ConnectClient client, String cmd, List<String> args, Map<String, String> envs) {
    StartRequest request =
        StartRequest.newBuilder()
            .setProcess(ProcessConfig.newBuilder().setCmd(cmd).addAllArgs(args).putAllEnvs(envs))
            .setStdin(false)
            .build();
    CallOptions options = CallOptions.builder().header("Keepalive-Ping-Interval", "50").build();
    for (int i = 0; i < WARMUP_COMMANDS; i++) {
      runToEnd(client, request, options);
    }
    Samples samples = new Samples(COMMANDS);
    for (int i = 0; i < COMMANDS; i++) {
      long start = System.nanoTime();
      runToEnd(client, request, options);
      samples.add(System.nanoTime() - start);
    }
    return samples;
  }

  /** How long this machine takes to fork, exec and reap {@code /bin/true}, without envd. */
  private static Samples localSpawns() throws IOException, InterruptedException {
    ProcessBuilder spawn = new ProcessBuilder("/bin/true");
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
