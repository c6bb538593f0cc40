package dev.sbx.connect;

import static java.util.Objects.requireNonNull;

import org.jspecify.annotations.Nullable;

/**
 * A Connect error: thrown by handlers to answer with that code and message, and by {@link
 * ConnectClient} when a call fails.
 */
public final class ConnectException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ConnectCode code;

  public ConnectException(ConnectCode code, String message) {
    this(code, message, null);
  }

  public ConnectException(ConnectCode code, String message, @Nullable Throwable cause) {
    super(requireNonNull(message, "message"), cause);
    this.code = requireNonNull(code, "code");
  }

  public ConnectCode code() {
    return code;
  }

  @Override
  public String getMessage() {
    String message = super.getMessage();
    return message == null ? "" : message;
  }

  @Override
  public String toString() {
    return "ConnectException[" + code.wireName() + "]: " + getMessage();
  }
}
