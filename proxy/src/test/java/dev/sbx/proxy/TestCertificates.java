package dev.sbx.proxy;

import dev.sbx.proxy.forward.ServerTls;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

/** A self-signed wildcard certificate as PEM files, made with the JDK's keytool. */
final class TestCertificates {

  private TestCertificates() {}

  static ServerTls wildcard(Path directory, String domain) throws Exception {
    Path store = directory.resolve("proxy.p12");
    char[] password = "changeit".toCharArray();
    Process keytool =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-alias",
                "proxy",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                "CN=*." + domain,
                "-ext",
                "SAN=dns:*." + domain,
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                store.toString(),
                "-storepass",
                "changeit",
                "-keypass",
                "changeit")
            .redirectErrorStream(true)
            .start();
    String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!keytool.waitFor(60, TimeUnit.SECONDS) || keytool.exitValue() != 0) {
      throw new IllegalStateException("keytool failed: " + output);
    }
    KeyStore keyStore = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      keyStore.load(in, password);
    }
    PrivateKey key = (PrivateKey) keyStore.getKey("proxy", password);
    Certificate certificate = keyStore.getCertificate("proxy");
    Path certPath = directory.resolve("wildcard.crt");
    Path keyPath = directory.resolve("wildcard.key");
    Files.writeString(certPath, pem("CERTIFICATE", certificate.getEncoded()));
    Files.writeString(keyPath, pem("PRIVATE KEY", key.getEncoded()));
    return new ServerTls(certPath, keyPath);
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }
}
