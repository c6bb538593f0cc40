package dev.sbx.cli.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The HMAC key of envd and traffic tokens. Every API instance of a cluster must use the same key,
 * and tokens issued before a restart must stay valid after it: the key comes from {@code
 * SBX_TOKEN_KEY} (hex, at least 16 bytes) or from {@code <dataDir>/token.key}, created once with 32
 * random bytes, readable by its owner only.
 */
final class TokenKey {

  private static final String FILE = "token.key";

  private TokenKey() {}

  static byte[] load(Path dataDir) {
    String fromEnv = System.getenv("SBX_TOKEN_KEY");
    if (fromEnv != null && !fromEnv.isBlank()) {
      byte[] key = HexFormat.of().parseHex(fromEnv.strip());
      if (key.length < 16) {
        throw new IllegalArgumentException("SBX_TOKEN_KEY must hold at least 16 bytes (32 hex)");
      }
      return key;
    }
    Path file = dataDir.resolve(FILE);
    try {
      Files.createDirectories(dataDir);
      if (!Files.exists(file)) {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        try {
          Files.createFile(
              file,
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
          Files.write(file, key, StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException raced) {
          // another process made it first: use that one
        }
      }
      byte[] key = Files.readAllBytes(file);
      if (key.length < 16) {
        throw new IllegalStateException(file + " holds " + key.length + " bytes; remove it");
      }
      return key;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or create " + file, e);
    }
  }
}
