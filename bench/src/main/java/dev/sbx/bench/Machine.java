package dev.sbx.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Names the machine a benchmark ran on: CPU model, cores, memory, kernel, JVM. */
final class Machine {
  private Machine() {}

  static String describe() {
    String cpu =
        lines("/proc/cpuinfo").stream()
            .filter(l -> l.startsWith("model name"))
            .findFirst()
            .map(l -> l.substring(l.indexOf(':') + 1).strip())
            .orElse("unknown CPU");
    long memKb =
        lines("/proc/meminfo").stream()
            .filter(l -> l.startsWith("MemTotal:"))
            .findFirst()
            .map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")))
            .orElse(0L);
    return String.format(
        "%s, %d cores, %.0f GiB, Linux %s, Java %s",
        cpu,
        Runtime.getRuntime().availableProcessors(),
        memKb / 1024.0 / 1024.0,
        System.getProperty("os.version"),
        System.getProperty("java.version"));
  }

  /** The 1-minute load average, to read the other numbers by. */
  static String loadAverage() {
    return lines("/proc/loadavg").stream().findFirst().map(l -> l.split(" ")[0]).orElse("?");
  }

  /** Resident memory of a process and all its descendants, in MiB (from /proc/PID/status). */
  static double rssMib(ProcessHandle process) {
    long kb = rssKb(process.pid());
    for (ProcessHandle child : process.descendants().toList()) {
      kb += rssKb(child.pid());
    }
    return kb / 1024.0;
  }

  /**
   * CPU time of {@code process} and of its children that it has reaped (user + system, fields 14–17
   * of {@code /proc/PID/stat}), in milliseconds; clock ticks of 10 ms (USER_HZ 100).
   */
  static double cpuMillis(ProcessHandle process) {
    List<String> stat = lines("/proc/" + process.pid() + "/stat");
    if (stat.isEmpty()) {
      return 0;
    }
    String line = stat.getFirst();
    String[] fields = line.substring(line.lastIndexOf(')') + 2).split(" ");
    long ticks = 0;
    for (int i = 11; i <= 14; i++) {
      ticks += Long.parseLong(fields[i]);
    }
    return ticks * 10.0;
  }

  /** Memory of one process in KiB, from {@code /proc/PID/smaps_rollup}. */
  record Memory(long rssKb, long pssKb, long privateKb, long anonymousKb) {}

  /** The memory of {@code process} and its descendants (summed). */
  static Memory memory(ProcessHandle process) {
    long[] sum = new long[4];
    List<ProcessHandle> all = new java.util.ArrayList<>(process.descendants().toList());
    all.add(process);
    for (ProcessHandle p : all) {
      for (String line : lines("/proc/" + p.pid() + "/smaps_rollup")) {
        int colon = line.indexOf(':');
        if (colon < 0 || !line.endsWith("kB")) {
          continue;
        }
        long kb = Long.parseLong(line.substring(colon + 1).replaceAll("[^0-9]", ""));
        switch (line.substring(0, colon)) {
          case "Rss" -> sum[0] += kb;
          case "Pss" -> sum[1] += kb;
          case "Private_Clean", "Private_Dirty" -> sum[2] += kb;
          case "Anonymous" -> sum[3] += kb;
          default -> {}
        }
      }
    }
    return new Memory(sum[0], sum[1], sum[2], sum[3]);
  }

  private static long rssKb(long pid) {
    return lines("/proc/" + pid + "/status").stream()
        .filter(l -> l.startsWith("VmRSS:"))
        .findFirst()
        .map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")))
        .orElse(0L);
  }

  private static List<String> lines(String file) {
    try {
      return Files.readAllLines(Path.of(file));
    } catch (IOException e) {
      return List.of();
    }
  }
}
