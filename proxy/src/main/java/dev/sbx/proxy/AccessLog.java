package dev.sbx.proxy;

import dev.sbx.proxy.forward.Exchange;
import dev.sbx.proxy.forward.ExchangeListener;
import dev.sbx.proxy.routing.SandboxTarget;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One INFO line per request on the SLF4J logger {@code dev.sbx.proxy.access}: client address,
 * method, URI, Host, sandbox, port, status, body bytes in and out, and milliseconds, for example
 * {@code 127.0.0.1:51234 "GET /files?path=a" host=49983-abc.sbx.dev sandbox=abc port=49983
 * status=200 in=0 out=12 ms=1.42}.
 */
final class AccessLog implements ExchangeListener {

  static final String LOGGER_NAME = "dev.sbx.proxy.access";

  private static final Logger LOG = LoggerFactory.getLogger(LOGGER_NAME);

  @Override
  public void finished(Exchange exchange) {
    if (!LOG.isInfoEnabled()) {
      return;
    }
    SandboxTarget target = exchange.target();
    LOG.info(
        "{} \"{} {}\" host={} sandbox={} port={} status={} in={} out={} ms={}",
        exchange.remoteAddress(),
        exchange.method(),
        exchange.uri(),
        exchange.host() == null ? "-" : exchange.host(),
        target == null ? "-" : target.sandboxId(),
        target == null ? "-" : Integer.toString(target.port()),
        exchange.status(),
        exchange.bytesReceived(),
        exchange.bytesSent(),
        String.format(Locale.ROOT, "%.2f", exchange.durationNanos() / 1_000_000.0));
  }
}
