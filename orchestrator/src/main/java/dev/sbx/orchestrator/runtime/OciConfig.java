package dev.sbx.orchestrator.runtime;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The OCI runtime {@code config.json} of a sandbox (runtime-spec 1.0.2): tini as PID 1 running envd
 * from {@code /opt/sbx}, root inside with Docker's default capabilities, masked and read-only paths
 * as Docker has them, the default devices (runc adds them), new pid/ipc/uts/mount namespaces and
 * the given network namespace, and cgroup limits.
 */
final class OciConfig {
  /** Where envd's directory is mounted in every sandbox. */
  static final String ENVD_MOUNT = "/opt/sbx";

  static final List<String> COMMAND =
      List.of(
          ENVD_MOUNT + "/bin/tini",
          "--",
          ENVD_MOUNT + "/bin/busybox",
          "sh",
          ENVD_MOUNT + "/bin/envd");

  /** Docker's default capability set: root in a sandbox can chown, setuid (sudo), bind :80. */
  static final List<String> CAPABILITIES =
      List.of(
          "CAP_CHOWN",
          "CAP_DAC_OVERRIDE",
          "CAP_FSETID",
          "CAP_FOWNER",
          "CAP_MKNOD",
          "CAP_NET_RAW",
          "CAP_SETGID",
          "CAP_SETUID",
          "CAP_SETFCAP",
          "CAP_SETPCAP",
          "CAP_NET_BIND_SERVICE",
          "CAP_SYS_CHROOT",
          "CAP_KILL",
          "CAP_AUDIT_WRITE");

  static final List<String> MASKED_PATHS =
      List.of(
          "/proc/asound",
          "/proc/acpi",
          "/proc/kcore",
          "/proc/keys",
          "/proc/latency_stats",
          "/proc/timer_list",
          "/proc/timer_stats",
          "/proc/sched_debug",
          "/proc/scsi",
          "/sys/firmware",
          "/sys/devices/virtual/powercap");

  static final List<String> READONLY_PATHS =
      List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger");

  /** envd is the sandbox: the OOM killer takes anything else first (envd's children get 100). */
  static final int ENVD_OOM_SCORE_ADJ = -1000;

  private OciConfig() {}

  /**
   * The config of a bundle whose rootfs is {@code rootfs} beside {@code config.json}.
   *
   * @param hostsFile the generated {@code /etc/hosts} on the host
   * @param resolvConf the generated {@code /etc/resolv.conf} on the host
   * @param cgroupsPath runc's cgroups path, e.g. {@code /sbx/sbx-abc}
   * @param limitSwap whether the host accounts swap (v1 {@code memory.memsw.*}), so that memory +
   *     swap can be limited
   * @param oomScoreAdj tini's (and so envd's) {@code oom_score_adj}
   */
  static JsonObject of(
      SandboxSpec spec,
      Path hostsFile,
      Path resolvConf,
      String cgroupsPath,
      boolean limitSwap,
      int oomScoreAdj) {
    JsonObject config = new JsonObject();
    config.addProperty("ociVersion", "1.0.2");
    config.add("process", process(spec, oomScoreAdj));
    JsonObject root = new JsonObject();
    root.addProperty("path", "rootfs");
    root.addProperty("readonly", false);
    config.add("root", root);
    config.addProperty("hostname", spec.sandboxId());
    config.add("mounts", mounts(spec, hostsFile, resolvConf));
    config.add("linux", linux(spec, cgroupsPath, limitSwap));
    return config;
  }

  /** The environment of tini and envd: the runtime's variables, then the spec's (which win). */
  static List<String> environment(SandboxSpec spec) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    env.put("HOME", "/root");
    env.put("ENVD_SET_CLOCK", "true");
    env.putAll(spec.env());
    return env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
  }

  private static JsonObject process(SandboxSpec spec, int oomScoreAdj) {
    JsonObject process = new JsonObject();
    process.addProperty("terminal", false);
    JsonObject user = new JsonObject();
    user.addProperty("uid", 0);
    user.addProperty("gid", 0);
    process.add("user", user);
    process.add("args", strings(COMMAND));
    process.add("env", strings(environment(spec)));
    process.addProperty("cwd", "/");
    JsonObject capabilities = new JsonObject();
    for (String set : List.of("bounding", "effective", "permitted")) {
      capabilities.add(set, strings(CAPABILITIES));
    }
    process.add("capabilities", capabilities);
    // no rlimits: the sandbox inherits the orchestrator's (raising them needs CAP_SYS_RESOURCE,
    // which some hosts' root lacks)
    // sudo (setuid) must work for the template's user
    process.addProperty("noNewPrivileges", false);
    process.addProperty("oomScoreAdj", oomScoreAdj);
    return process;
  }

  private static JsonArray mounts(SandboxSpec spec, Path hostsFile, Path resolvConf) {
    JsonArray mounts = new JsonArray();
    mounts.add(mount("/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev")));
    mounts.add(
        mount(
            "/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k")));
    mounts.add(
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")));
    mounts.add(
        mount(
            "/dev/shm",
            "tmpfs",
            "shm",
            List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")));
    mounts.add(mount("/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev")));
    mounts.add(mount("/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro")));
    mounts.add(
        mount(
            "/sys/fs/cgroup",
            "cgroup",
            "cgroup",
            List.of("nosuid", "noexec", "nodev", "relatime", "ro")));
    mounts.add(
        mount(
            ENVD_MOUNT,
            "bind",
            spec.envdDist().toString(),
            List.of("rbind", "ro", "nodev", "nosuid")));
    mounts.add(
        mount("/etc/hosts", "bind", hostsFile.toString(), List.of("bind", "nodev", "nosuid")));
    mounts.add(
        mount(
            "/etc/resolv.conf", "bind", resolvConf.toString(), List.of("bind", "nodev", "nosuid")));
    return mounts;
  }

  private static JsonObject mount(
      String destination, String type, String source, List<String> options) {
    JsonObject mount = new JsonObject();
    mount.addProperty("destination", destination);
    mount.addProperty("type", type);
    mount.addProperty("source", source);
    mount.add("options", strings(options));
    return mount;
  }

  private static JsonObject linux(SandboxSpec spec, String cgroupsPath, boolean limitSwap) {
    JsonObject linux = new JsonObject();
    JsonArray namespaces = new JsonArray();
    for (String type : List.of("pid", "ipc", "uts", "mount")) {
      JsonObject namespace = new JsonObject();
      namespace.addProperty("type", type);
      namespaces.add(namespace);
    }
    JsonObject network = new JsonObject();
    network.addProperty("type", "network");
    Path netns = spec.networkNamespace();
    if (netns != null) {
      network.addProperty("path", netns.toString());
    }
    namespaces.add(network);
    linux.add("namespaces", namespaces);
    linux.addProperty("cgroupsPath", cgroupsPath);
    linux.add("resources", resources(spec.limits(), limitSwap, spec.background()));
    linux.add("maskedPaths", strings(MASKED_PATHS));
    linux.add("readonlyPaths", strings(READONLY_PATHS));
    return linux;
  }

  /**
   * The {@code linux.resources} of the limits (devices: deny all; runc adds the defaults); in the
   * {@code background}, the least CPU shares ({@link CpuWeight#BACKGROUND_SHARES}).
   */
  static JsonObject resources(ResourceLimits limits, boolean limitSwap, boolean background) {
    JsonObject resources = new JsonObject();
    JsonArray devices = new JsonArray();
    JsonObject denyAll = new JsonObject();
    denyAll.addProperty("allow", false);
    denyAll.addProperty("access", "rwm");
    devices.add(denyAll);
    resources.add("devices", devices);
    JsonObject memory = new JsonObject();
    memory.addProperty("limit", limits.memoryBytes());
    if (limitSwap) {
      memory.addProperty("swap", limits.memoryBytes());
    }
    resources.add("memory", memory);
    JsonObject cpu = new JsonObject();
    cpu.addProperty("quota", limits.cpuQuotaMicros());
    cpu.addProperty("period", ResourceLimits.CPU_PERIOD_MICROS);
    if (background) {
      cpu.addProperty("shares", CpuWeight.BACKGROUND_SHARES);
    }
    resources.add("cpu", cpu);
    JsonObject pids = new JsonObject();
    pids.addProperty("limit", limits.pidsLimit());
    resources.add("pids", pids);
    return resources;
  }

  private static JsonArray strings(List<String> values) {
    JsonArray array = new JsonArray();
    values.forEach(array::add);
    return array;
  }
}
