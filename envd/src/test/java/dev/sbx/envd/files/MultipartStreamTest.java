package dev.sbx.envd.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MultipartStreamTest {
  /** Hands out at most {@code chunk} bytes per read, so boundaries straddle reads. */
  private static InputStream trickle(byte[] data, int chunk) {
    return new FilterInputStream(new ByteArrayInputStream(data)) {
      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        return super.read(b, off, Math.min(len, chunk));
      }
    };
  }

  private static MultipartStream.Part part(MultipartStream stream) throws IOException {
    MultipartStream.Part part = stream.next();
    assertThat(part).isNotNull();
    return java.util.Objects.requireNonNull(part);
  }

  private static List<String> bodies(MultipartStream stream) throws IOException {
    List<String> bodies = new ArrayList<>();
    MultipartStream.Part part;
    while ((part = stream.next()) != null) {
      bodies.add(
          part.header("Content-Disposition")
              + "|"
              + new String(part.body().readAllBytes(), StandardCharsets.UTF_8));
    }
    return bodies;
  }

  private static final String BODY =
      "ignored preamble\r\n"
          + "--b0undary\r\n"
          + "Content-Disposition: form-data; name=\"a\"\r\n"
          + "\r\n"
          + "first\r\n--b0undar not yet\r\n"
          + "--b0undary  \r\n"
          + "content-disposition: form-data; name=\"b\"\r\n"
          + "Content-Type: text/plain\r\n"
          + "\r\n"
          + "\r\n"
          + "--b0undary--\r\n"
          + "epilogue";

  @Test
  void readsEveryPartWhateverTheReadSizes() throws IOException {
    for (int chunk : new int[] {1, 2, 3, 7, 13, 64, 100_000}) {
      MultipartStream stream =
          new MultipartStream(trickle(BODY.getBytes(StandardCharsets.UTF_8), chunk), "b0undary");
      assertThat(bodies(stream))
          .as("chunk %d", chunk)
          .containsExactly(
              "form-data; name=\"a\"|first\r\n--b0undar not yet", "form-data; name=\"b\"|");
      assertThat(stream.next()).isNull();
    }
  }

  @Test
  void aBodyStartingWithTheBoundaryNeedsNoPreamble() throws IOException {
    String body = "--x\r\nA: 1\r\n\r\none\r\n--x\r\nA: 2\r\n\r\ntwo\r\n--x--";
    MultipartStream stream =
        new MultipartStream(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)), "x");
    assertThat(part(stream).body().readAllBytes()).isEqualTo("one".getBytes());
    MultipartStream.Part second = part(stream);
    assertThat(second.header("a")).isEqualTo("2");
    // unread bodies are skipped by next()
    assertThat(stream.next()).isNull();
  }

  @Test
  void largePartsPassThroughTheFixedBuffer() throws Exception {
    byte[] payload = new byte[5 * 1024 * 1024 + 17];
    new Random(7).nextBytes(payload);
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes("--zz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n".getBytes());
    body.writeBytes(payload);
    body.writeBytes("\r\n--zz--\r\n".getBytes());
    MultipartStream stream = new MultipartStream(trickle(body.toByteArray(), 8191), "zz");
    MessageDigest digest = MessageDigest.getInstance("SHA-256");
    InputStream part = part(stream).body();
    byte[] buffer = new byte[4096];
    int n;
    long total = 0;
    while ((n = part.read(buffer)) >= 0) {
      digest.update(buffer, 0, n);
      total += n;
    }
    assertThat(total).isEqualTo(payload.length);
    assertThat(digest.digest()).isEqualTo(MessageDigest.getInstance("SHA-256").digest(payload));
    assertThat(stream.next()).isNull();
  }

  @Test
  void aMissingClosingBoundaryIsAnError() throws IOException {
    String body = "--x\r\nA: 1\r\n\r\nno end";
    MultipartStream stream =
        new MultipartStream(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)), "x");
    InputStream part = part(stream).body();
    assertThatThrownBy(part::readAllBytes).isInstanceOf(EOFException.class);
  }

  @Test
  void garbageAfterTheBoundaryIsMalformed() {
    String body = "--xjunk\r\n\r\n";
    MultipartStream stream =
        new MultipartStream(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)), "x");
    assertThatThrownBy(stream::next)
        .isInstanceOf(MultipartStream.MalformedMultipartException.class);
  }

  @Test
  void endlessHeadersAreRefused() {
    String body = "--x\r\nA: " + "y".repeat(40_000) + "\r\n\r\n";
    MultipartStream stream =
        new MultipartStream(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)), "x");
    assertThatThrownBy(stream::next)
        .isInstanceOf(MultipartStream.MalformedMultipartException.class);
  }
}
