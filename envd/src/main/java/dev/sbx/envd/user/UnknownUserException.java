package dev.sbx.envd.user;

/** A request named a user the sandbox does not have. */
public final class UnknownUserException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String username;

  public UnknownUserException(String username) {
    super("invalid username: '" + username + "'");
    this.username = username;
  }

  public String username() {
    return username;
  }
}
