package dev.sbx.connect;

import com.google.protobuf.Message;
import java.io.IOException;
import java.io.InputStream;
import org.jspecify.annotations.Nullable;

/** The enveloped messages of a streaming request body, read one at a time as they arrive. */
final class ServerRequestStream<Req extends Message> implements RequestStream<Req> {
  private final InputStream in;
  private final Codec codec;
  private final Req prototype;
  private final boolean gzip;
  private final int maxMessageBytes;
  private boolean finished;

  ServerRequestStream(
      InputStream in, Codec codec, Req prototype, boolean gzip, int maxMessageBytes) {
    this.in = in;
    this.codec = codec;
    this.prototype = prototype;
    this.gzip = gzip;
    this.maxMessageBytes = maxMessageBytes;
  }

  @Override
  public @Nullable Req receive() {
    if (finished) {
      return null;
    }
    Envelope envelope;
    try {
      envelope = Envelope.read(in, maxMessageBytes);
    } catch (IOException e) {
      finished = true;
      throw new ConnectException(ConnectCode.CANCELED, "reading the request failed", e);
    } catch (ConnectException e) {
      finished = true;
      throw e;
    }
    if (envelope == null) {
      finished = true;
      return null;
    }
    if ((envelope.flags() & ~Envelope.COMPRESSED) != 0) {
      finished = true;
      throw new ConnectException(
          ConnectCode.INVALID_ARGUMENT, "invalid envelope flags " + envelope.flags());
    }
    byte[] payload = envelope.payload();
    if (envelope.compressed()) {
      if (!gzip) {
        finished = true;
        throw new ConnectException(
            ConnectCode.INVALID_ARGUMENT,
            "compressed envelope without Connect-Content-Encoding: gzip");
      }
      payload = Gzip.decompress(payload, maxMessageBytes);
    }
    return codec.decode(payload, prototype);
  }
}
