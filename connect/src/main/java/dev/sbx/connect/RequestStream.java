package dev.sbx.connect;

import com.google.protobuf.Message;
import org.jspecify.annotations.Nullable;

/** The request side of a client-streaming call. */
public interface RequestStream<Req extends Message> {
  /**
   * Blocks for the next message; {@code null} at the end of the request. Throws {@link
   * ConnectException} ({@code invalid_argument}) for a malformed message.
   */
  @Nullable Req receive();
}
