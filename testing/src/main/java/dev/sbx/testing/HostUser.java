package dev.sbx.testing;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A Linux user on the host, for tests that run things as a user other than root. Needs root.
 *
 * <ul>
 *   <li>{@link #throwaway()} and {@link #create(String)} add a user ({@code useradd --create-home
 *       --user-group --shell /bin/bash}); {@link #close()} kills the processes left running as that
 *       user and removes it with {@code userdel -r}, home directory included.
 *   <li>{@link #throwawayWithSupplementaryGroup()} also puts the new user in a new group, which
 *       {@link #close()} removes as well ({@code groupdel}).
 *   <li>{@link #ensure(String)} is for a user a test needs by name, like E2B's default sandbox user
 *       {@code user}: an existing user is left alone (closing does nothing), a missing one is
 *       created and removed on close as above.
 * </ul>
 */
public final class HostUser implements AutoCloseable {
  private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_-]{0,30}");
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration KILL_WAIT = Duration.ofSeconds(10);

  private final String name;
  private final int uid;
  private final int gid;
  private final Path home;
  private final boolean created;
  private final @Nullable String supplementaryGroup;

  private HostUser(
      String name,
      int uid,
      int gid,
      Path home,
      boolean created,
      @Nullable String supplementaryGroup) {
    this.name = name;
    this.uid = uid;
    this.gid = gid;
    this.home = home;
    this.created = created;
    this.supplementaryGroup = supplementaryGroup;
  }

  /** Creates a user with a fresh name ({@code sbxit} and 8 hex digits). */
  public static HostUser throwaway() {
    return create(freshName());
  }

  /**
   * Creates a user with a fresh name ({@code sbxit} and 8 hex digits) that is also a member of a
   * new group of its own (its name and {@code g}; {@code groupadd}, {@code useradd --groups}), so
   * that it has a supplementary group besides its primary one. {@link #close()} removes both.
   */
  public static HostUser throwawayWithSupplementaryGroup() {
    String name = freshName();
    String group = name + "g";
    run(List.of("groupadd", group));
    try {
      return create(name, group);
    } catch (RuntimeException e) {
      exec(List.of("groupdel", group));
      throw e;
    }
  }

  private static String freshName() {
    byte[] random = new byte[4];
    new SecureRandom().nextBytes(random);
    return "sbxit" + HexFormat.of().formatHex(random);
  }

  /**
   * Creates the user {@code name}.
   *
   * @throws IllegalStateException when it already exists or {@code useradd} fails
   */
  public static HostUser create(String name) {
    requireNonNull(name, "name");
    return create(name, null);
  }

  private static HostUser create(String name, @Nullable String supplementaryGroup) {
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("not a portable user name: '" + name + "'");
    }
    if (lookup(name, false, null).isPresent()) {
      throw new IllegalStateException("user '" + name + "' already exists");
    }
    List<String> useradd =
        new ArrayList<>(
            List.of("useradd", "--create-home", "--user-group", "--shell", "/bin/bash"));
    if (supplementaryGroup != null) {
      useradd.addAll(List.of("--groups", supplementaryGroup));
    }
    useradd.add(name);
    run(useradd);
    return lookup(name, true, supplementaryGroup)
        .orElseThrow(() -> new IllegalStateException("useradd did not create '" + name + "'"));
  }

  /** The user {@code name}: the existing one (left alone on close), or a new one (removed). */
  public static HostUser ensure(String name) {
    requireNonNull(name, "name");
    Optional<HostUser> existing = lookup(name, false, null);
    return existing.isPresent() ? existing.get() : create(name);
  }

  /** Whether a user of that name exists on the host ({@code getent passwd}). */
  public static boolean exists(String name) {
    requireNonNull(name, "name");
    return lookup(name, false, null).isPresent();
  }

  private static Optional<HostUser> lookup(
      String name, boolean created, @Nullable String supplementaryGroup) {
    Result result = exec(List.of("getent", "passwd", name));
    if (result.exitCode() == 2) {
      return Optional.empty();
    }
    if (result.exitCode() != 0) {
      throw new IllegalStateException("getent passwd " + name + ": " + result);
    }
    // name:password:uid:gid:gecos:home:shell
    String[] fields = result.output().strip().split(":", -1);
    if (fields.length < 7) {
      throw new IllegalStateException("unexpected passwd entry: " + result.output());
    }
    return Optional.of(
        new HostUser(
            fields[0],
            Integer.parseInt(fields[2]),
            Integer.parseInt(fields[3]),
            Path.of(fields[5]),
            created,
            supplementaryGroup));
  }

  public String name() {
    return name;
  }

  public int uid() {
    return uid;
  }

  public int gid() {
    return gid;
  }

  public Path home() {
    return home;
  }

  /** Whether this fixture created the user (and so removes it on close). */
  public boolean created() {
    return created;
  }

  /** The group {@link #throwawayWithSupplementaryGroup()} made for this user, if it did. */
  public Optional<String> supplementaryGroup() {
    return Optional.ofNullable(supplementaryGroup);
  }

  /** Whether a group of that name exists on the host ({@code getent group}). */
  public static boolean groupExists(String group) {
    requireNonNull(group, "group");
    Result result = exec(List.of("getent", "group", group));
    if (result.exitCode() != 0 && result.exitCode() != 2) {
      throw new IllegalStateException("getent group " + group + ": " + result);
    }
    return result.exitCode() == 0;
  }

  /**
   * For a user this fixture created: SIGKILL to every process running as it, then {@code userdel
   * -r}, then {@code groupdel} of its {@link #supplementaryGroup()}. For an existing user: nothing.
   *
   * @throws IllegalStateException when the user is still there afterwards
   */
  @Override
  public void close() {
    if (!created) {
      return;
    }
    killProcesses();
    Result result = exec(List.of("userdel", "--remove", name));
    if (supplementaryGroup != null) {
      Result groupdel = exec(List.of("groupdel", supplementaryGroup));
      if (groupExists(supplementaryGroup)) {
        throw new IllegalStateException(
            "group '" + supplementaryGroup + "' still exists after groupdel: " + groupdel);
      }
    }
    // 12: the home directory or mail spool could not be removed (e.g. no mail spool); checked
    // below.
    if (result.exitCode() != 0 && result.exitCode() != 12) {
      throw new IllegalStateException("userdel --remove " + name + ": " + result);
    }
    if (lookup(name, false, null).isPresent()) {
      throw new IllegalStateException("user '" + name + "' still exists after userdel: " + result);
    }
    if (home.toFile().exists()) {
      throw new IllegalStateException(
          "home " + home + " of '" + name + "' still exists after userdel: " + result);
    }
  }

  private void killProcesses() {
    List<ProcessHandle> processes =
        ProcessHandle.allProcesses()
            .filter(p -> p.info().user().map(name::equals).orElse(false))
            .toList();
    processes.forEach(ProcessHandle::destroyForcibly);
    long deadline = System.nanoTime() + KILL_WAIT.toNanos();
    for (ProcessHandle process : processes) {
      try {
        process.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (ExecutionException | TimeoutException e) {
        // userdel then reports the user as still running processes
      }
    }
  }

  private static void run(List<String> command) {
    Result result = exec(command);
    if (result.exitCode() != 0) {
      throw new IllegalStateException(String.join(" ", command) + ": " + result);
    }
  }

  private static Result exec(List<String> command) {
    try {
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
              .start();
      byte[] output = process.getInputStream().readAllBytes();
      if (!process.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException(String.join(" ", command) + " timed out");
      }
      return new Result(process.exitValue(), new String(output, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(String.join(" ", command), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(String.join(" ", command) + " interrupted", e);
    }
  }

  private record Result(int exitCode, String output) {
    @Override
    public String toString() {
      return "exit " + exitCode + ": " + output.strip();
    }
  }

  @Override
  public String toString() {
    return "HostUser[" + name + ", uid=" + uid + ", home=" + home + ", created=" + created + "]";
  }
}
