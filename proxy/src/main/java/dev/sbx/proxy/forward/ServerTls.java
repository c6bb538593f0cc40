package dev.sbx.proxy.forward;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;

/**
 * TLS for a proxy's listener from PEM files, for example a wildcard certificate for {@code
 * *.<domain>}.
 *
 * @param certificateChain PEM file with the certificate, then its intermediates
 * @param privateKey PEM file with the private key (PKCS#8 or PKCS#1)
 */
public record ServerTls(Path certificateChain, Path privateKey) {

  /** Checks the fields. */
  public ServerTls {
    requireNonNull(certificateChain, "certificateChain");
    requireNonNull(privateKey, "privateKey");
  }
}
