package dev.sbx.connect;

import com.google.protobuf.Message;

/** Serves a client-streaming method: reads messages until the end of the request, then answers. */
@FunctionalInterface
public interface ClientStreamHandler<Req extends Message, Res extends Message> {
  Res handle(RequestStream<Req> requests, CallContext context);
}
