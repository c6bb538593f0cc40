package dev.sbx.envd.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sbx.envd.EnvdFixture;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 100 MiB through upload and download, both ways streamed. Surefire runs this class alone in a JVM
 * with a 64 MiB heap (see envd/pom.xml), so buffering a whole file anywhere fails it.
 */
class LargeFileTransferTest {
  private static final long SIZE = 100L * 1024 * 1024;

  @TempDir Path dir;
  private EnvdFixture envd;

  @BeforeAll
  static void smallHeap() {
    // The point of the test: no file fits in this JVM's heap. Surefire's large-file-transfer
    // execution gives it that heap; elsewhere (e.g. -Dtest in the default execution) the class is
    // skipped (here, so that no @BeforeEach/@AfterEach runs).
    assumeTrue(
        Runtime.getRuntime().maxMemory() < SIZE, "needs a heap smaller than the file (-Xmx64m)");
  }

  @BeforeEach
  void start() {
    envd = EnvdFixture.start(dir);
  }

  @AfterEach
  void stop() {
    envd.close();
  }

  /** {@code size} pseudo-random bytes, generated as they are read; digest via {@link #digest}. */
  private static InputStream generated(long size, long seed) {
    return new InputStream() {
      private final Random random = new Random(seed);
      private final byte[] block = new byte[8192];
      private int blockPos = block.length;
      private long remaining = size;

      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (remaining == 0) {
          return -1;
        }
        if (blockPos == block.length) {
          random.nextBytes(block);
          blockPos = 0;
        }
        int n = (int) Math.min(Math.min(len, block.length - blockPos), remaining);
        System.arraycopy(block, blockPos, b, off, n);
        blockPos += n;
        remaining -= n;
        return n;
      }
    };
  }

  private static byte[] digest(InputStream in) throws Exception {
    MessageDigest digest = MessageDigest.getInstance("SHA-256");
    byte[] buffer = new byte[65536];
    int n;
    while ((n = in.read(buffer)) >= 0) {
      digest.update(buffer, 0, n);
    }
    return digest.digest();
  }

  @Test
  void hundredMibOctetStreamUpAndDown() throws Exception {
    HttpResponse<String> up =
        envd.send(
            envd.request("/files?path=big.bin")
                .header("Content-Type", "application/octet-stream")
                .POST(BodyPublishers.ofInputStream(() -> generated(SIZE, 1)))
                .build());
    assertThat(up.statusCode()).as(up.body()).isEqualTo(200);
    Path file = envd.home("root").resolve("big.bin");
    assertThat(Files.size(file)).isEqualTo(SIZE);
    byte[] expected = digest(generated(SIZE, 1));
    try (InputStream in = Files.newInputStream(file)) {
      assertThat(digest(in)).isEqualTo(expected);
    }

    HttpResponse<InputStream> down =
        envd.client()
            .send(
                envd.request("/files?path=big.bin").GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
    assertThat(down.statusCode()).isEqualTo(200);
    assertThat(down.headers().firstValueAsLong("Content-Length")).hasValue(SIZE);
    try (InputStream in = down.body()) {
      assertThat(digest(in)).isEqualTo(expected);
    }
  }

  @Test
  void hundredMibMultipartUpload() throws Exception {
    String boundary = "large-boundary-1234";
    InputStream body =
        new SequenceInputStream(
            java.util.Collections.enumeration(
                List.of(
                    new java.io.ByteArrayInputStream(
                        ("--"
                                + boundary
                                + "\r\nContent-Disposition: form-data; name=\"file\";"
                                + " filename=\"multi.bin\"\r\n\r\n")
                            .getBytes(StandardCharsets.UTF_8)),
                    generated(SIZE, 2),
                    new java.io.ByteArrayInputStream(
                        ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8)))));
    HttpResponse<String> up =
        envd.send(
            envd.request("/files")
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(BodyPublishers.ofInputStream(() -> body))
                .build());
    assertThat(up.statusCode()).as(up.body()).isEqualTo(200);
    Path file = envd.home("root").resolve("multi.bin");
    assertThat(Files.size(file)).isEqualTo(SIZE);
    try (InputStream in = Files.newInputStream(file)) {
      assertThat(digest(in)).isEqualTo(digest(generated(SIZE, 2)));
    }
  }
}
