package dev.sbx.envd.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SystemMetricsTest {
  private static final long GIB = 1024L * 1024 * 1024;

  @TempDir Path dir;
  private final AtomicLong nanos = new AtomicLong();

  private Path proc() throws IOException {
    Path proc = dir.resolve("proc");
    Files.createDirectories(proc.resolve("self"));
    Files.writeString(
        proc.resolve("meminfo"),
        """
        MemTotal:        8388608 kB
        MemFree:         4194304 kB
        MemAvailable:    6291456 kB
        Buffers:          102400 kB
        Cached:          1048576 kB
        SReclaimable:      51200 kB
        """);
    stat(proc, 1000, 0, 500, 8000, 500);
    return proc;
  }

  private static void stat(Path proc, long user, long nice, long system, long idle, long iowait)
      throws IOException {
    Files.writeString(
        proc.resolve("stat"),
        "cpu  %d %d %d %d %d 0 0 0 0 0\ncpu0 1 2 3 4 5 0 0 0 0 0\n"
            .formatted(user, nice, system, idle, iowait));
  }

  private SystemMetrics metrics(Path proc, Path cgroup) {
    return new SystemMetrics(
        proc,
        cgroup,
        dir,
        () -> 3,
        nanos::get,
        Clock.fixed(Instant.ofEpochSecond(1_700_000_000), ZoneOffset.UTC));
  }

  @Test
  void withoutACgroupLimitMemoryComesFromMeminfo() throws IOException {
    Path proc = proc();
    Files.writeString(proc.resolve("self/cgroup"), "0::/\n");
    Path cgroup = Files.createDirectories(dir.resolve("cgroup"));
    Files.writeString(cgroup.resolve("cgroup.controllers"), "cpu memory\n");
    Files.writeString(cgroup.resolve("memory.max"), "max\n");
    SystemMetrics.Metrics m = metrics(proc, cgroup).read();
    assertThat(m.memTotal()).isEqualTo(8 * GIB);
    long cached = (1048576L + 51200) * 1024;
    assertThat(m.memCache()).isEqualTo(cached);
    assertThat(m.memUsed()).isEqualTo(8 * GIB - 4 * GIB - 102400L * 1024 - cached);
    assertThat(m.cpuCount()).isEqualTo(3);
    assertThat(m.timestamp()).isEqualTo(1_700_000_000L);
    assertThat(m.diskTotal()).isPositive();
    assertThat(m.toJson().get("mem_total_mib").getAsLong()).isEqualTo(8192);
  }

  @Test
  void aCgroupV2LimitOfAnAncestorIsTheTotal() throws IOException {
    Path proc = proc();
    Files.writeString(proc.resolve("self/cgroup"), "0::/sandbox/envd\n");
    Path cgroup = Files.createDirectories(dir.resolve("cgroup"));
    Files.writeString(cgroup.resolve("cgroup.controllers"), "cpu memory\n");
    Path sandbox = Files.createDirectories(cgroup.resolve("sandbox"));
    Files.createDirectories(sandbox.resolve("envd"));
    Files.writeString(sandbox.resolve("envd/memory.max"), "max\n");
    Files.writeString(sandbox.resolve("memory.max"), Long.toString(GIB));
    Files.writeString(sandbox.resolve("memory.current"), Long.toString(600L * 1024 * 1024));
    Files.writeString(
        sandbox.resolve("memory.stat"),
        "anon 300000000\nfile 200000000\ninactive_file 100000000\nactive_file 100000000\n");
    SystemMetrics.Metrics m = metrics(proc, cgroup).read();
    assertThat(m.memTotal()).isEqualTo(GIB);
    assertThat(m.memUsed()).isEqualTo(600L * 1024 * 1024 - 100_000_000L);
    assertThat(m.memCache()).isEqualTo(200_000_000L);
  }

  @Test
  void aCgroupV1LimitIsTheTotal() throws IOException {
    Path proc = proc();
    Files.writeString(proc.resolve("self/cgroup"), "5:cpu,cpuacct:/\n4:memory:/docker/abc\n0::/\n");
    Path cgroup = Files.createDirectories(dir.resolve("cgroup"));
    Path memory = Files.createDirectories(cgroup.resolve("memory/docker/abc"));
    Files.writeString(memory.resolve("memory.limit_in_bytes"), Long.toString(2 * GIB));
    Files.writeString(memory.resolve("memory.usage_in_bytes"), "700000000");
    Files.writeString(
        memory.resolve("memory.stat"),
        "cache 5000\ntotal_cache 400000000\ntotal_inactive_file 200000000\n");
    SystemMetrics.Metrics m = metrics(proc, cgroup).read();
    assertThat(m.memTotal()).isEqualTo(2 * GIB);
    assertThat(m.memUsed()).isEqualTo(500_000_000L);
    assertThat(m.memCache()).isEqualTo(400_000_000L);
  }

  @Test
  void anUnlimitedCgroupV1FallsBackToMeminfo() throws IOException {
    Path proc = proc();
    Files.writeString(proc.resolve("self/cgroup"), "4:memory:/\n");
    Path cgroup = Files.createDirectories(dir.resolve("cgroup"));
    Path memory = Files.createDirectories(cgroup.resolve("memory"));
    Files.writeString(memory.resolve("memory.limit_in_bytes"), "9223372036854771712");
    Files.writeString(memory.resolve("memory.usage_in_bytes"), "1000");
    assertThat(metrics(proc, cgroup).read().memTotal()).isEqualTo(8 * GIB);
  }

  @Test
  void cpuUseIsTheBusyShareSinceTheLastRead() throws IOException {
    Path proc = proc();
    Path cgroup = Files.createDirectories(dir.resolve("cgroup"));
    SystemMetrics metrics = metrics(proc, cgroup);
    // +300 busy (user 200, system 100), +700 idle (idle 600, iowait 100): 30 %
    stat(proc, 1200, 0, 600, 8600, 600);
    nanos.addAndGet(1_000_000_000L);
    assertThat(metrics.read().cpuUsedPercent()).isEqualTo(30.0);
    // +1 busy of +3: 33.33 %
    stat(proc, 1201, 0, 600, 8601, 601);
    nanos.addAndGet(1_000_000_000L);
    assertThat(metrics.read().cpuUsedPercent()).isEqualTo(33.33);
    // a read within 100 ms repeats the last value
    stat(proc, 9999, 0, 600, 8601, 601);
    nanos.addAndGet(1_000_000L);
    assertThat(metrics.read().cpuUsedPercent()).isEqualTo(33.33);
  }
}
