package dev.sbx.proxy.forward;

/** Told about every finished exchange, on the event loop: must be quick and never block. */
@FunctionalInterface
public interface ExchangeListener {

  /** A listener that ignores everything. */
  ExchangeListener NONE = exchange -> {};

  /** Called once per request, when its response ended or its connection closed. */
  void finished(Exchange exchange);
}
