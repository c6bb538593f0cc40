package dev.sbx.orchestrator.template;

import static java.util.Objects.requireNonNull;

import dev.sbx.orchestrator.rootfs.DirectoryTree;
import dev.sbx.orchestrator.rootfs.MountTable;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Builds the {@code base} template: Debian bookworm made with {@code mmdebstrap} from the host's
 * own apt source (URI and keyring; {@link DebianSource}), with what E2B's {@code base} offers
 * (bash, coreutils, procps, python3 + pip, nodejs + npm, git, curl, sudo, ca-certificates and a few
 * small tools), user {@code user} (uid 1000, home {@code /home/user}, passwordless sudo), {@code
 * /tmp} 1777.
 *
 * <p>The build runs in {@code <templatesDir>/.base.building-…} and is renamed to {@code
 * <templatesDir>/base} only when complete, so a half-built template never appears; a failed or
 * interrupted build leaves nothing (and a crashed one's directory is removed by the next build). An
 * existing complete template is reused unless a rebuild is asked for. Builds are serialised by a
 * lock file ({@code .base.lock}), also across processes. Needs root (mmdebstrap's root mode).
 */
public final class BaseTemplateBuilder {
  /** The template id. */
  public static final String TEMPLATE_ID = "base";

  /** The Debian suite the template is made from. */
  public static final String SUITE = "bookworm";

  /**
   * Where templates live unless configured otherwise (shared by the orchestrator and the tests).
   */
  public static final Path DEFAULT_TEMPLATES_DIR = Path.of("/var/lib/sbx/templates");

  /** The packages beyond Debian's required set ({@code --variant=minbase}). */
  public static final List<String> PACKAGES =
      List.of(
          "bash",
          "coreutils",
          "procps",
          "python3",
          "python3-pip",
          "python3-venv",
          "nodejs",
          "npm",
          "git",
          "curl",
          "wget",
          "sudo",
          "ca-certificates",
          "debian-archive-keyring",
          "iproute2",
          "iputils-ping",
          "less",
          "nano",
          "unzip",
          "zip",
          "xz-utils",
          "openssh-client");

  /** Shell steps run by mmdebstrap on the finished tree ({@code $1} is the rootfs). */
  static final List<String> CUSTOMIZE_HOOKS =
      List.of(
          // the user commands run as: uid/gid 1000, bash, in the sudo group
          "chroot \"$1\" useradd --create-home --uid 1000 --user-group --groups sudo"
              + " --shell /bin/bash user",
          // passwordless sudo for it (root-owned, 0440, as sudo demands)
          "printf 'user ALL=(ALL:ALL) NOPASSWD: ALL\\n' > \"$1/etc/sudoers.d/user\""
              + " && chmod 0440 \"$1/etc/sudoers.d/user\"",
          "chmod 1777 \"$1/tmp\"",
          // the runtime binds its own files over these two: they only have to exist, with a
          // harmless content for a sandbox started without them
          "printf '127.0.0.1 localhost\\n::1 localhost ip6-localhost ip6-loopback\\n'"
              + " > \"$1/etc/hosts\"",
          "rm -f \"$1/etc/resolv.conf\" && : > \"$1/etc/resolv.conf\"",
          // mmdebstrap copies the host's name in; a sandbox's hostname is its id (set by the
          // runtime)
          "echo localhost > \"$1/etc/hostname\"",
          // E2B's SDKs run every command in a login shell (`bash -l -c`), whose /etc/profile forks
          // id(1) to learn the user id: bash has it in $EUID (read-only, never taken from the
          // environment). Other shells still ask id(1). Saves a fork and exec per command.
          "sed -i 's/\"$(id -u)\"/\"${EUID:-$(id -u)}\"/g' \"$1/etc/profile\""
              + " && grep -q 'EUID:-' \"$1/etc/profile\"",
          // as in E2B's base (not Debian's python): `pip install` works for the user
          "rm -f \"$1\"/usr/lib/python3*/EXTERNALLY-MANAGED",
          // no apt caches in the template; `sudo apt-get update` fetches the lists when needed
          "rm -rf \"$1\"/var/cache/apt/*.bin \"$1\"/var/lib/apt/lists/*");

  private static final Object IN_PROCESS_LOCK = new Object();

  private final TemplateDirectory templates;
  private final Consumer<String> progress;
  private final String mmdebstrap;
  private final @Nullable String envdVersion;

  /**
   * @param templates where the template goes
   * @param progress receives one line per step and every line mmdebstrap prints
   * @param envdVersion the envd version to record in the template's settings, or null
   */
  public BaseTemplateBuilder(
      TemplateDirectory templates, Consumer<String> progress, @Nullable String envdVersion) {
    this(templates, progress, envdVersion, "mmdebstrap");
  }

  BaseTemplateBuilder(
      TemplateDirectory templates,
      Consumer<String> progress,
      @Nullable String envdVersion,
      String mmdebstrap) {
    this.templates = requireNonNull(templates, "templates");
    this.progress = requireNonNull(progress, "progress");
    this.envdVersion = envdVersion;
    this.mmdebstrap = requireNonNull(mmdebstrap, "mmdebstrap");
  }

  /**
   * Returns the {@code base} template, building it first if it is missing, not usable, or {@code
   * rebuild} is set.
   *
   * @throws IllegalStateException if the build cannot start (no root, no apt source for bookworm)
   *     or a rebuild would replace a rootfs that running sandboxes use
   * @throws TemplateBuildException if mmdebstrap fails (with its last lines)
   */
  public Template build(boolean rebuild) throws IOException, InterruptedException {
    Path root = templates.root();
    Files.createDirectories(root);
    synchronized (IN_PROCESS_LOCK) {
      try (FileChannel lockFile =
              FileChannel.open(
                  root.resolve("." + TEMPLATE_ID + ".lock"),
                  StandardOpenOption.CREATE,
                  StandardOpenOption.WRITE);
          FileLock lock = lockFile.lock()) {
        if (!rebuild) {
          Optional<Template> existing = usable();
          if (existing.isPresent()) {
            Template template = existing.get();
            progress.accept(
                "[base] reusing "
                    + template.directory()
                    + " (built "
                    + template.settings().builtAt()
                    + ", "
                    + mebibytes(template.settings().rootfsBytes())
                    + " MiB); rebuild to replace it");
            return template;
          }
        }
        return buildLocked(root);
      }
    }
  }

  private Optional<Template> usable() {
    try {
      return Optional.of(templates.template(TEMPLATE_ID));
    } catch (UnknownTemplateException e) {
      return Optional.empty();
    } catch (InvalidTemplateException e) {
      progress.accept("[base] the existing template is not usable, rebuilding: " + e.getMessage());
      return Optional.empty();
    }
  }

  private Template buildLocked(Path root) throws IOException, InterruptedException {
    if (!Files.getAttribute(Path.of("/proc/self"), "unix:uid").equals(0)) {
      throw new IllegalStateException("building the base template needs root (mmdebstrap)");
    }
    List<String> mirrors = mirrors();
    removeLeftovers(root);
    Path target = templates.directory(TEMPLATE_ID);
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      refuseIfInUse(target.resolve(Template.ROOTFS_DIR));
    }
    Instant start = Instant.now();
    Path building = Files.createTempDirectory(root, "." + TEMPLATE_ID + ".building-");
    // 0755 as a template directory should be (createTempDirectory makes 0700, which also keeps
    // apt's unprivileged _apt user out of the lists directory during the build)
    Files.setPosixFilePermissions(building, PosixFilePermissions.fromString("rwxr-xr-x"));
    boolean done = false;
    try {
      Path rootfs = building.resolve(Template.ROOTFS_DIR);
      progress.accept(
          "[base 1/3] mmdebstrap: Debian "
              + SUITE
              + " from "
              + String.join(", ", mirrors)
              + " into "
              + rootfs);
      runMmdebstrap(rootfs, mirrors);
      progress.accept("[base 2/3] measuring the rootfs, writing " + Template.SETTINGS_FILE);
      long bytes = diskUsage(rootfs);
      long millis = Duration.between(start, Instant.now()).toMillis();
      LinkedHashMap<String, String> env = new LinkedHashMap<>();
      env.put("LANG", "C.UTF-8");
      TemplateSettings settings =
          TemplateSettings.DEFAULT.withEnvVars(env).withBuild(envdVersion, start, millis, bytes);
      TemplateDirectory.writeSettings(building, settings);
      progress.accept("[base 3/3] installing as " + target);
      install(building, target);
      done = true;
      progress.accept(
          "[base] built in "
              + Duration.ofMillis(millis).toSeconds()
              + " s, rootfs "
              + mebibytes(bytes)
              + " MiB");
      return templates.template(TEMPLATE_ID);
    } finally {
      if (!done) {
        discard(building);
      }
    }
  }

  /**
   * mmdebstrap's mirror arguments: the suite, its updates and security suites where the host has
   * them.
   */
  List<String> mirrors() {
    DebianSource main =
        DebianSource.find(SUITE)
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "no apt source for Debian "
                            + SUITE
                            + " in /etc/apt: the base template is built from the host's own"
                            + " Debian source"));
    List<String> mirrors = new ArrayList<>();
    mirrors.add(main.sourcesListLine("main"));
    Optional<DebianSource> updates = DebianSource.find(SUITE + "-updates");
    if (updates.isPresent()) {
      mirrors.add(updates.get().sourcesListLine("main"));
    }
    Optional<DebianSource> security = DebianSource.find(SUITE + "-security");
    if (security.isPresent()) {
      mirrors.add(security.get().sourcesListLine("main"));
    }
    return mirrors;
  }

  private void runMmdebstrap(Path rootfs, List<String> mirrors)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(mmdebstrap);
    command.add("--mode=root");
    command.add("--variant=minbase");
    command.add("--format=directory");
    command.add("--include=" + String.join(",", PACKAGES));
    for (String hook : CUSTOMIZE_HOOKS) {
      command.add("--customize-hook=" + hook);
    }
    command.add(SUITE);
    command.add(rootfs.toString());
    command.addAll(mirrors);
    Process process;
    try {
      process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
              .start();
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot run mmdebstrap: install it with scripts/install-deps.sh orchestrator", e);
    }
    List<String> tail = new ArrayList<>();
    try (BufferedReader out =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null) {
        progress.accept("[base 1/3] " + line);
        tail.add(line);
        if (tail.size() > 20) {
          tail.removeFirst();
        }
      }
      int exit = process.waitFor();
      if (exit != 0) {
        throw new TemplateBuildException(
            "mmdebstrap failed (exit " + exit + "):\n" + String.join("\n", tail));
      }
    } finally {
      if (process.isAlive()) {
        process.destroy(); // SIGTERM: mmdebstrap unmounts what it mounted in the chroot
        if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
          process.destroyForcibly();
          process.waitFor();
        }
      }
    }
  }

  /**
   * Puts the finished build in place: the old template (if any) is moved aside first, then removed.
   */
  private void install(Path building, Path target) throws IOException {
    Path old = null;
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      old = Files.createTempDirectory(target.getParent(), "." + TEMPLATE_ID + ".old-");
      Files.move(target, old.resolve(TEMPLATE_ID), StandardCopyOption.ATOMIC_MOVE);
    }
    Files.move(building, target, StandardCopyOption.ATOMIC_MOVE);
    if (old != null) {
      discard(old);
    }
  }

  private static void refuseIfInUse(Path rootfs) throws IOException {
    String lower = "lowerdir=" + rootfs;
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      for (String option : line.split("[ ,]")) {
        if (option.equals(lower) || option.startsWith(lower + ":")) {
          throw new IllegalStateException(
              "sandboxes still run on " + rootfs + ": remove them before rebuilding the template");
        }
      }
    }
  }

  /**
   * Removes what a crashed build or replacement left ({@code .base.building-…}, {@code
   * .base.old-…}).
   */
  private void removeLeftovers(Path root) throws IOException {
    List<Path> leftovers = new ArrayList<>();
    try (DirectoryStream<Path> entries =
        Files.newDirectoryStream(root, "." + TEMPLATE_ID + ".{building,old}-*")) {
      for (Path entry : entries) {
        leftovers.add(entry);
      }
    }
    for (Path leftover : leftovers) {
      progress.accept("[base] removing " + leftover + " (left by an earlier build)");
      discard(leftover);
    }
  }

  private static void discard(Path dir) {
    try {
      MountTable.unmountBelow(dir);
      DirectoryTree.delete(dir);
    } catch (RuntimeException e) {
      throw new UncheckedIOException(
          new IOException("removing " + dir + " failed: " + e.getMessage(), e));
    }
  }

  /**
   * The size of the tree's regular files and symlinks in bytes, each hard-linked file counted once
   * (apparent sizes, as {@code du -sb}; directories not counted).
   */
  static long diskUsage(Path rootfs) throws IOException {
    long[] total = {0};
    Set<Object> seen = new HashSet<>();
    Files.walkFileTree(
        rootfs,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
            Object key = attributes.fileKey();
            if ((attributes.isRegularFile() || attributes.isSymbolicLink())
                && (key == null || seen.add(key))) {
              total[0] += attributes.size();
            }
            return FileVisitResult.CONTINUE;
          }
        });
    return total[0];
  }

  private static long mebibytes(long bytes) {
    return (bytes + (1 << 19)) >> 20;
  }
}
