package dev.sbx.connect;

import com.google.protobuf.Message;

/** Serves a unary method: one request, one response. Throw {@link ConnectException} to fail. */
@FunctionalInterface
public interface UnaryHandler<Req extends Message, Res extends Message> {
  Res handle(Req request, CallContext context);
}
