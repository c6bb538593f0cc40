package dev.sbx.cli.sandbox;

import dev.sbx.sdk.AuthenticationException;
import dev.sbx.sdk.ConnectionConfig;
import dev.sbx.sdk.InvalidArgumentException;
import dev.sbx.sdk.NotFoundException;
import dev.sbx.sdk.RateLimitException;
import dev.sbx.sdk.SandboxException;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * What every {@code sbx sandbox} command shares: the connection flags, and expected failures as a
 * one-line message and an exit code instead of a stack trace.
 */
abstract class SandboxSubcommand implements Callable<Integer> {
  /** Exit codes of {@code sbx sandbox …} (besides 0, and 2 for bad arguments). */
  static final int FAILED = 1;

  static final int USAGE = 2;
  static final int UNAUTHENTICATED = 3;
  static final int NOT_FOUND = 4;
  static final int UNREACHABLE = 5;

  @Mixin ConnectionOptions connection = new ConnectionOptions();

  @Spec
  @SuppressWarnings("NullAway.Init")
  CommandSpec spec;

  /** The command's work; SDK exceptions that escape it become a message and an exit code. */
  abstract int run(ConnectionConfig config) throws Exception;

  @Override
  public final Integer call() throws Exception {
    ConnectionConfig config;
    try {
      config = connection.config();
    } catch (IllegalArgumentException | InvalidArgumentException e) {
      // a malformed --api-url, --domain, …: the SDK refuses it before any request
      err().println(name() + ": " + e.getMessage());
      err().flush();
      return USAGE;
    }
    try {
      return run(config);
    } catch (SandboxException e) {
      err().println(name() + ": " + message(e, config));
      err().flush();
      return exitCode(e);
    }
  }

  String name() {
    return spec.qualifiedName(" ");
  }

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  PrintWriter err() {
    return spec.commandLine().getErr();
  }

  static int exitCode(SandboxException e) {
    if (e instanceof AuthenticationException) {
      return UNAUTHENTICATED;
    }
    if (e instanceof NotFoundException) {
      return NOT_FOUND;
    }
    if (e instanceof InvalidArgumentException) {
      return USAGE;
    }
    if (unreachable(e)) {
      return UNREACHABLE;
    }
    return FAILED;
  }

  static String message(SandboxException e, ConnectionConfig config) {
    if (e instanceof AuthenticationException && config.apiKey() == null) {
      return "no API key: set E2B_API_KEY or --api-key (./sbx up prints one; `sbx keys create`"
          + " makes another)";
    }
    if (e instanceof AuthenticationException) {
      return "the API refused the key (" + e.getMessage() + ")";
    }
    if (e instanceof RateLimitException) {
      return String.valueOf(e.getMessage());
    }
    if (unreachable(e)) {
      return "cannot reach the API at "
          + config.apiUrl()
          + " ("
          + rootCause(e)
          + "); is the server running? (--api-url / E2B_API_URL)";
    }
    return String.valueOf(e.getMessage());
  }

  private static boolean unreachable(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ConnectException
          || t instanceof UnknownHostException
          || t instanceof UnresolvedAddressException) {
        return true;
      }
    }
    return false;
  }

  private static String rootCause(Throwable e) {
    Throwable t = e;
    for (Throwable cause = t.getCause(); cause != null && cause != t; cause = t.getCause()) {
      t = cause;
    }
    String message = t.getMessage();
    return t.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }
}
