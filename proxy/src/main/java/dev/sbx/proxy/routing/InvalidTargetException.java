package dev.sbx.proxy.routing;

/** A request whose host or routing headers name no sandbox port; the message is the 400 body. */
public final class InvalidTargetException extends Exception {

  private static final long serialVersionUID = 1L;

  /** Creates the exception with the plain-text message the proxy answers with. */
  public InvalidTargetException(String message) {
    super(message);
  }
}
