package dev.sbx.envd.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DownloadHeadersTest {
  @Test
  void byteRanges() throws Exception {
    assertThat(ByteRange.parse(null, 10)).isNull();
    assertThat(ByteRange.parse("bytes=0-0", 10)).isEqualTo(new ByteRange(0, 1));
    assertThat(ByteRange.parse("bytes=3-", 10)).isEqualTo(new ByteRange(3, 7));
    assertThat(ByteRange.parse("bytes=-4", 10)).isEqualTo(new ByteRange(6, 4));
    assertThat(ByteRange.parse("bytes=-40", 10)).isEqualTo(new ByteRange(0, 10));
    assertThat(ByteRange.parse("bytes=5-400", 10)).isEqualTo(new ByteRange(5, 5));
    assertThat(ByteRange.parse("bytes=0-1, 3-4", 10)).isNull();
    for (String bad :
        new String[] {"bytes=10-", "bytes=5-2", "bytes=-0", "bytes=a-b", "items=0-1", "bytes=5"}) {
      assertThatThrownBy(() -> ByteRange.parse(bad, 10))
          .as(bad)
          .isInstanceOf(ByteRange.UnsatisfiableException.class);
    }
    assertThatThrownBy(() -> ByteRange.parse("bytes=0-", 0))
        .isInstanceOf(ByteRange.UnsatisfiableException.class);
  }

  @Test
  void acceptEncoding() {
    assertThat(AcceptEncoding.choose(null)).isEqualTo(AcceptEncoding.IDENTITY);
    assertThat(AcceptEncoding.choose("gzip")).isEqualTo(AcceptEncoding.GZIP);
    assertThat(AcceptEncoding.choose("br, GZIP;q=0.8")).isEqualTo(AcceptEncoding.GZIP);
    assertThat(AcceptEncoding.choose("gzip;q=0.5, identity")).isEqualTo(AcceptEncoding.IDENTITY);
    assertThat(AcceptEncoding.choose("gzip;q=0")).isEqualTo(AcceptEncoding.IDENTITY);
    assertThat(AcceptEncoding.choose("*")).isEqualTo(AcceptEncoding.IDENTITY);
    assertThat(AcceptEncoding.choose("*, identity;q=0")).isEqualTo(AcceptEncoding.GZIP);
    assertThat(AcceptEncoding.choose("br")).isEqualTo(AcceptEncoding.IDENTITY);
    assertThat(AcceptEncoding.choose("identity;q=0")).isEqualTo(AcceptEncoding.NONE_ACCEPTABLE);
    assertThat(AcceptEncoding.choose("br, *;q=0")).isEqualTo(AcceptEncoding.NONE_ACCEPTABLE);
  }

  @Test
  void contentDisposition() {
    assertThat(ContentDisposition.inline("a.txt")).isEqualTo("inline; filename=a.txt");
    assertThat(ContentDisposition.inline("a b\"c.txt"))
        .isEqualTo("inline; filename=\"a b\\\"c.txt\"");
    assertThat(ContentDisposition.inline("été.txt"))
        .isEqualTo("inline; filename*=utf-8''%C3%A9t%C3%A9.txt");
  }

  @Test
  void mediaTypes() {
    assertThat(MediaTypes.of("a.json")).isEqualTo("application/json");
    assertThat(MediaTypes.of("A.HTML")).isEqualTo("text/html; charset=utf-8");
    assertThat(MediaTypes.of("README")).isEqualTo("application/octet-stream");
    assertThat(MediaTypes.of("x.unknownext")).isEqualTo("application/octet-stream");
  }

  @Test
  void signaturesMatchE2bsFormula() {
    // Expected values computed independently: base64(sha256(payload)) without padding.
    assertThat(
            UrlSignature.sign(
                "/home/user/a.txt",
                UrlSignature.Operation.READ,
                "user",
                "secret-token",
                1700000000L))
        .isEqualTo("v1_FOSI+b/i/GzH8tSgiWZtRy2hHfAXUvgmh1XjLhXNizI");
    assertThat(UrlSignature.sign("a.txt", UrlSignature.Operation.WRITE, "", "secret-token", null))
        .isEqualTo("v1_mZKT3qH+2jqDtN4fmcnjJcMBs29JOyZvSh5AKevQnDk");
  }
}
