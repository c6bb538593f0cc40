package dev.sbx.connect;

import com.google.protobuf.Message;

/**
 * Serves a server-streaming method. The handler runs on its own virtual thread and may block; every
 * {@link ResponseStream#send} reaches the client at once. The stream ends when the handler returns
 * (end-stream message {@code {}}) or throws ({@link ConnectException}: that error in the end-stream
 * message; anything else: {@code internal}).
 */
@FunctionalInterface
public interface ServerStreamHandler<Req extends Message, Res extends Message> {
  void handle(Req request, CallContext context, ResponseStream<Res> responses);
}
