package dev.sbx.connect;

import java.util.Locale;
import org.jspecify.annotations.Nullable;

/** Connect error codes, with their wire names and the HTTP statuses of unary error responses. */
public enum ConnectCode {
  CANCELED(499),
  UNKNOWN(500),
  INVALID_ARGUMENT(400),
  DEADLINE_EXCEEDED(504),
  NOT_FOUND(404),
  ALREADY_EXISTS(409),
  PERMISSION_DENIED(403),
  RESOURCE_EXHAUSTED(429),
  FAILED_PRECONDITION(400),
  ABORTED(409),
  OUT_OF_RANGE(400),
  UNIMPLEMENTED(501),
  INTERNAL(500),
  UNAVAILABLE(503),
  DATA_LOSS(500),
  UNAUTHENTICATED(401);

  private final int httpStatus;

  ConnectCode(int httpStatus) {
    this.httpStatus = httpStatus;
  }

  /** The HTTP status of a unary response that carries this error. */
  public int httpStatus() {
    return httpStatus;
  }

  /** The code as written on the wire, e.g. {@code "not_found"}. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The code for a wire name, or {@code null} if the name is not a Connect code. */
  public static @Nullable ConnectCode fromWireName(String wireName) {
    for (ConnectCode code : values()) {
      if (code.wireName().equals(wireName)) {
        return code;
      }
    }
    return null;
  }

  /**
   * The code a client infers from an HTTP status that came without a Connect error body (for
   * example from a proxy), as the Connect protocol specifies.
   */
  public static ConnectCode fromHttpStatus(int status) {
    return switch (status) {
      case 400 -> INTERNAL;
      case 401 -> UNAUTHENTICATED;
      case 403 -> PERMISSION_DENIED;
      case 404 -> UNIMPLEMENTED;
      case 429, 502, 503, 504 -> UNAVAILABLE;
      default -> UNKNOWN;
    };
  }
}
