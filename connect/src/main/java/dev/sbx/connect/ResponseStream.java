package dev.sbx.connect;

import com.google.protobuf.Message;

/** The response side of a server-streaming call. */
public interface ResponseStream<Res extends Message> {
  /**
   * Writes one message and flushes it to the client. Throws {@link ConnectException} with {@link
   * ConnectCode#CANCELED} once the client has gone away.
   */
  void send(Res message);

  /** True once the client has gone away or the call's deadline has passed. */
  boolean isCancelled();
}
