package dev.sbx.envd.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.sbx.envd.Envd;
import dev.sbx.envd.EnvdConfig;
import dev.sbx.envd.EnvdFixture;
import dev.sbx.envd.files.UrlSignature.Operation;
import dev.sbx.testing.HostUser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileTransferTest {
  private static final String BOUNDARY = "----sbxBoundary7MA4YWxkTrZu0gW";

  @TempDir Path dir;
  private EnvdFixture envd;
  private Path home;

  @BeforeEach
  void start() {
    envd = EnvdFixture.start(dir);
    home = envd.home("root");
  }

  @AfterEach
  void stop() {
    envd.close();
  }

  private static String q(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8);
  }

  /** A multipart body; each part is {name, filename, content}. */
  private static byte[] multipart(String[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes("preamble to be ignored\r\n".getBytes(StandardCharsets.UTF_8));
    for (String[] part : parts) {
      out.writeBytes(
          ("--"
                  + BOUNDARY
                  + "\r\nContent-Disposition: form-data; name=\""
                  + part[0]
                  + "\"; filename=\""
                  + part[1]
                  + "\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                  + part[2]
                  + "\r\n")
              .getBytes(StandardCharsets.UTF_8));
    }
    out.writeBytes(("--" + BOUNDARY + "--\r\nepilogue").getBytes(StandardCharsets.UTF_8));
    return out.toByteArray();
  }

  private HttpResponse<String> postMultipart(String query, byte[] body, String... headers) {
    HttpRequest.Builder request =
        envd.request("/files" + query)
            .header("Content-Type", "multipart/form-data; boundary=\"" + BOUNDARY + "\"")
            .POST(BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(body)));
    if (headers.length > 0) {
      request.headers(headers);
    }
    return envd.send(request.build());
  }

  private HttpResponse<String> postRaw(String query, byte[] body, String... headers) {
    HttpRequest.Builder request =
        envd.request("/files" + query)
            .header("Content-Type", "application/octet-stream")
            .POST(BodyPublishers.ofByteArray(body));
    if (headers.length > 0) {
      request.headers(headers);
    }
    return envd.send(request.build());
  }

  private HttpResponse<byte[]> get(String query, String... headers) {
    HttpRequest.Builder request = envd.request("/files" + query).GET();
    if (headers.length > 0) {
      request.headers(headers);
    }
    return envd.sendForBytes(request.build());
  }

  private static JsonObject error(HttpResponse<?> response) {
    Object body = response.body();
    String text =
        body instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8) : (String) body;
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValue("application/json; charset=utf-8");
    JsonObject error = JsonParser.parseString(text).getAsJsonObject();
    assertThat(error.get("code").getAsInt()).isEqualTo(response.statusCode());
    return error;
  }

  private static byte[] gzip(byte[] data) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (OutputStream gz = new GZIPOutputStream(out)) {
      gz.write(data);
    }
    return out.toByteArray();
  }

  @Test
  void multipartUploadWithPathWritesTheFileAndDescribesIt() throws IOException {
    HttpResponse<String> response =
        postMultipart("?path=" + q("docs/a.txt"), multipart(new String[] {"file", "x", "hello"}));
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    Path file = home.resolve("docs/a.txt");
    assertThat(Files.readString(file)).isEqualTo("hello");
    JsonArray entries = JsonParser.parseString(response.body()).getAsJsonArray();
    assertThat(entries).hasSize(1);
    JsonObject entry = entries.get(0).getAsJsonObject();
    assertThat(entry.get("name").getAsString()).isEqualTo("a.txt");
    assertThat(entry.get("type").getAsString()).isEqualTo("file");
    assertThat(entry.get("path").getAsString()).isEqualTo(file.toString());
    assertThat(entry.has("metadata")).isFalse();
  }

  @Test
  void multiFileUploadUsesEachFilenameAsItsPathAndSkipsOtherParts() throws IOException {
    Path absolute = dir.resolve("elsewhere/c.bin");
    HttpResponse<String> response =
        postMultipart(
            "",
            multipart(
                new String[] {"file", "a.txt", "first"},
                new String[] {"other", "ignored.txt", "nope"},
                new String[] {"file", "nested/dir/b.txt", "second\r\n--not-the-boundary"},
                new String[] {"file", absolute.toString(), ""}));
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(Files.readString(home.resolve("a.txt"))).isEqualTo("first");
    assertThat(Files.readString(home.resolve("nested/dir/b.txt")))
        .isEqualTo("second\r\n--not-the-boundary");
    assertThat(Files.size(absolute)).isZero();
    assertThat(Files.exists(home.resolve("ignored.txt"))).isFalse();
    JsonArray entries = JsonParser.parseString(response.body()).getAsJsonArray();
    assertThat(entries).hasSize(3);
    assertThat(entries.get(1).getAsJsonObject().get("path").getAsString())
        .isEqualTo(home.resolve("nested/dir/b.txt").toString());
  }

  @Test
  void twoPartsForOnePathAre400() {
    HttpResponse<String> response =
        postMultipart(
            "",
            multipart(
                new String[] {"file", "same.txt", "1"}, new String[] {"file", "./same.txt", "2"}));
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(error(response).get("message").getAsString())
        .contains("cannot upload multiple files to the same path");
  }

  @Test
  void octetStreamUploadNeedsAPath() throws IOException {
    HttpResponse<String> response = postRaw("?path=" + q("raw/data.bin"), new byte[] {1, 2, 3});
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(Files.readAllBytes(home.resolve("raw/data.bin"))).containsExactly(1, 2, 3);

    HttpResponse<String> noPath = postRaw("", new byte[] {1});
    assertThat(noPath.statusCode()).isEqualTo(400);
    assertThat(error(noPath).get("message").getAsString())
        .isEqualTo("path query parameter is required for raw body upload");
  }

  @Test
  void anExistingFileIsTruncatedAndOverwritten() throws IOException {
    Files.writeString(home.resolve("over.txt"), "a much longer previous content");
    assertThat(postRaw("?path=over.txt", "new".getBytes()).statusCode()).isEqualTo(200);
    assertThat(Files.readString(home.resolve("over.txt"))).isEqualTo("new");
  }

  @Test
  void gzipBodiesAreDecodedForBothKinds() throws IOException {
    byte[] data = "compressed content ".repeat(1000).getBytes(StandardCharsets.UTF_8);
    assertThat(postRaw("?path=gz.txt", gzip(data), "Content-Encoding", "gzip").statusCode())
        .isEqualTo(200);
    assertThat(Files.readAllBytes(home.resolve("gz.txt"))).isEqualTo(data);

    byte[] body = multipart(new String[] {"file", "gz-multi.txt", "zipped part"});
    HttpResponse<String> multi = postMultipart("", gzip(body), "Content-Encoding", "gzip");
    assertThat(multi.statusCode()).as(multi.body()).isEqualTo(200);
    assertThat(Files.readString(home.resolve("gz-multi.txt"))).isEqualTo("zipped part");

    HttpResponse<String> broken =
        postRaw("?path=broken.txt", "not gzip at all".getBytes(), "Content-Encoding", "gzip");
    assertThat(broken.statusCode()).isEqualTo(400);
    assertThat(error(broken).get("message").getAsString()).contains("decompress");
    assertThat(Files.exists(home.resolve("broken.txt"))).isFalse();

    assertThat(postRaw("?path=br.txt", data, "Content-Encoding", "br").statusCode()).isEqualTo(400);
  }

  @Test
  void metadataHeadersBecomeUserE2bXattrsAndAnOverwriteReplacesThem() throws IOException {
    HttpResponse<String> response =
        postRaw(
            "?path=meta.txt",
            "x".getBytes(),
            "X-Metadata-Author",
            "mish",
            "x-metadata-Purpose",
            "upload test");
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    Path file = home.resolve("meta.txt");
    UserDefinedFileAttributeView view =
        Files.getFileAttributeView(file, UserDefinedFileAttributeView.class);
    assertThat(view.list()).containsExactlyInAnyOrder("e2b.author", "e2b.purpose");
    ByteBuffer value = ByteBuffer.allocate(view.size("e2b.purpose"));
    view.read("e2b.purpose", value);
    assertThat(new String(value.array(), StandardCharsets.US_ASCII)).isEqualTo("upload test");
    JsonObject metadata =
        JsonParser.parseString(response.body())
            .getAsJsonArray()
            .get(0)
            .getAsJsonObject()
            .getAsJsonObject("metadata");
    assertThat(metadata.get("author").getAsString()).isEqualTo("mish");

    assertThat(postRaw("?path=meta.txt", "y".getBytes(), "X-Metadata-Other", "1").statusCode())
        .isEqualTo(200);
    assertThat(view.list()).containsExactly("e2b.other");

    HttpResponse<String> invalid =
        postRaw("?path=meta2.txt", "z".getBytes(), "X-Metadata-" + "k".repeat(300), "long key");
    assertThat(invalid.statusCode()).isEqualTo(400);
    assertThat(error(invalid).get("message").getAsString()).startsWith("invalid metadata");
  }

  @Test
  void uploadsAsAUserAreOwnedByThatUserWithTheirNewDirectories() throws IOException {
    assumeTrue(EnvdFixture.isRoot(), "chown needs root");
    Path userHome = envd.home("user");
    HttpResponse<String> response =
        postMultipart(
            "?username=user", multipart(new String[] {"file", "deep/er/owned.txt", "mine"}));
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    for (Path p :
        List.of(
            userHome.resolve("deep"),
            userHome.resolve("deep/er"),
            userHome.resolve("deep/er/owned.txt"))) {
      assertThat(Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS))
          .as(p.toString())
          .isEqualTo(EnvdFixture.USER_UID);
      assertThat(Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS))
          .isEqualTo(EnvdFixture.USER_UID);
    }
    assertThat(Files.getAttribute(userHome, "unix:uid")).isEqualTo(0); // existing: unchanged

    // the default user from /init applies without a username
    envd.init("{\"defaultUser\":\"user\"}", null);
    assertThat(postRaw("?path=default.txt", "d".getBytes()).statusCode()).isEqualTo(200);
    assertThat(Files.getAttribute(userHome.resolve("default.txt"), "unix:uid"))
        .isEqualTo(EnvdFixture.USER_UID);
  }

  @Test
  void uploadsAsARealSystemUserLandInItsHomeOwnedByIt() throws Exception {
    assumeTrue(EnvdFixture.isRoot(), "useradd and chown need root");
    try (HostUser user = HostUser.throwaway();
        Envd system =
            Envd.start(
                new EnvdConfig(new InetSocketAddress("127.0.0.1", 0), Path.of("/"), Map.of()))) {
      String name = user.name();
      Path userHome = user.home();
      int uid = user.uid();
      HttpResponse<String> response =
          envd.client()
              .send(
                  HttpRequest.newBuilder(
                          java.net.URI.create(
                              "http://127.0.0.1:"
                                  + system.port()
                                  + "/files?path=sub/f.txt&username="
                                  + name))
                      .header("Content-Type", "application/octet-stream")
                      .POST(BodyPublishers.ofString("real user"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      Path file = userHome.resolve("sub/f.txt");
      assertThat(Files.readString(file)).isEqualTo("real user");
      assertThat(Files.getAttribute(file, "unix:uid")).isEqualTo(uid);
      assertThat(Files.getAttribute(userHome.resolve("sub"), "unix:uid")).isEqualTo(uid);
    }
  }

  @Test
  void unknownUsersAre401AndBadRequestsAre400() {
    HttpResponse<String> unknown = postRaw("?path=a&username=nobody-here", "x".getBytes());
    assertThat(unknown.statusCode()).isEqualTo(401);
    assertThat(error(unknown).get("message").getAsString()).contains("nobody-here");
    assertThat(get("?path=a&username=nobody-here").statusCode()).isEqualTo(401);

    HttpResponse<String> wrongType =
        envd.send(
            envd.request("/files?path=a")
                .header("Content-Type", "text/plain")
                .POST(BodyPublishers.ofString("x"))
                .build());
    assertThat(wrongType.statusCode()).isEqualTo(400);
    assertThat(error(wrongType).get("message").getAsString())
        .startsWith("unsupported content type");

    assertThat(postRaw("?path=" + q("~other/x"), "x".getBytes()).statusCode()).isEqualTo(400);
  }

  @Test
  void aTruncatedMultipartBodyIs400AndLeavesNoPartialFile() {
    byte[] body =
        ("--"
                + BOUNDARY
                + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cut.txt\""
                + "\r\n\r\nthe body never ends")
            .getBytes(StandardCharsets.UTF_8);
    HttpResponse<String> response = postMultipart("", body);
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(Files.exists(home.resolve("cut.txt"))).isFalse();
    assertThat(postRaw("?path=after.txt", "ok".getBytes()).statusCode()).isEqualTo(200);
  }

  @Test
  void aDirectoryTargetIs400() throws IOException {
    Files.createDirectories(home.resolve("adir"));
    assertThat(postRaw("?path=adir", "x".getBytes()).statusCode()).isEqualTo(400);
    HttpResponse<byte[]> download = get("?path=adir");
    assertThat(download.statusCode()).isEqualTo(400);
    assertThat(error(download).get("message").getAsString())
        .isEqualTo("path '" + home.resolve("adir") + "' is a directory");
  }

  @Test
  void downloadStreamsTheFileWithItsTypeAndName() throws IOException {
    Files.writeString(home.resolve("hello world.json"), "{\"a\":1}");
    HttpResponse<byte[]> response = get("?path=" + q("hello world.json"));
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(new String(response.body(), StandardCharsets.UTF_8)).isEqualTo("{\"a\":1}");
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(response.headers().firstValue("Content-Disposition"))
        .hasValue("inline; filename=\"hello world.json\"");
    assertThat(response.headers().firstValue("Content-Length")).hasValue("7");
    assertThat(response.headers().firstValue("Accept-Ranges")).hasValue("bytes");
    assertThat(response.headers().firstValue("Last-Modified")).isPresent();

    Files.write(home.resolve("noext"), new byte[] {0, 1});
    HttpResponse<byte[]> binary = get("?path=noext");
    assertThat(binary.headers().firstValue("Content-Type")).hasValue("application/octet-stream");
    assertThat(binary.headers().firstValue("Content-Disposition"))
        .hasValue("inline; filename=noext");
  }

  @Test
  void anEmptyFileHasContentLengthZero() throws IOException {
    Files.createFile(home.resolve("empty.txt"));
    HttpResponse<byte[]> response = get("?path=empty.txt");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Length")).hasValue("0");
    assertThat(response.body()).isEmpty();
  }

  @Test
  void aMissingFileIs404WithE2bsMessage() {
    HttpResponse<byte[]> response = get("?path=missing.txt");
    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(error(response).get("message").getAsString())
        .isEqualTo("path '" + home.resolve("missing.txt") + "' does not exist");
  }

  @Test
  void rangesGive206OrA416() throws IOException {
    Files.writeString(home.resolve("digits.txt"), "0123456789");
    HttpResponse<byte[]> middle = get("?path=digits.txt", "Range", "bytes=2-5");
    assertThat(middle.statusCode()).isEqualTo(206);
    assertThat(new String(middle.body(), StandardCharsets.US_ASCII)).isEqualTo("2345");
    assertThat(middle.headers().firstValue("Content-Range")).hasValue("bytes 2-5/10");

    HttpResponse<byte[]> suffix = get("?path=digits.txt", "Range", "bytes=-3");
    assertThat(new String(suffix.body(), StandardCharsets.US_ASCII)).isEqualTo("789");
    HttpResponse<byte[]> open = get("?path=digits.txt", "Range", "bytes=8-");
    assertThat(new String(open.body(), StandardCharsets.US_ASCII)).isEqualTo("89");
    HttpResponse<byte[]> clamped = get("?path=digits.txt", "Range", "bytes=7-100");
    assertThat(clamped.headers().firstValue("Content-Range")).hasValue("bytes 7-9/10");

    HttpResponse<byte[]> past = get("?path=digits.txt", "Range", "bytes=10-");
    assertThat(past.statusCode()).isEqualTo(416);
    assertThat(past.headers().firstValue("Content-Range")).hasValue("bytes */10");
    assertThat(get("?path=digits.txt", "Range", "lines=1-2").statusCode()).isEqualTo(416);

    HttpResponse<byte[]> several = get("?path=digits.txt", "Range", "bytes=0-1,4-5");
    assertThat(several.statusCode()).isEqualTo(200);
    assertThat(several.body()).hasSize(10);
  }

  @Test
  void gzipIsUsedWhenAcceptedUnlessARangeOrConditionAsksForIdentity() throws IOException {
    byte[] data = "gzip me ".repeat(5000).getBytes(StandardCharsets.UTF_8);
    Files.write(home.resolve("big.txt"), data);
    HttpResponse<byte[]> gz = get("?path=big.txt", "Accept-Encoding", "gzip");
    assertThat(gz.statusCode()).isEqualTo(200);
    assertThat(gz.headers().firstValue("Content-Encoding")).hasValue("gzip");
    assertThat(gz.headers().firstValue("Content-Type")).hasValue("text/plain; charset=utf-8");
    assertThat(gz.body().length).isLessThan(data.length);
    try (GZIPInputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(gz.body()))) {
      assertThat(in.readAllBytes()).isEqualTo(data);
    }

    HttpResponse<byte[]> ranged =
        get("?path=big.txt", "Accept-Encoding", "gzip", "Range", "bytes=0-3");
    assertThat(ranged.statusCode()).isEqualTo(206);
    assertThat(ranged.headers().firstValue("Content-Encoding")).isEmpty();
    assertThat(new String(ranged.body(), StandardCharsets.UTF_8)).isEqualTo("gzip");

    assertThat(get("?path=big.txt").headers().firstValue("Content-Encoding")).isEmpty();

    HttpResponse<byte[]> refused = get("?path=big.txt", "Accept-Encoding", "identity;q=0");
    assertThat(refused.statusCode()).isEqualTo(406);
    error(refused);
    assertThat(
            get("?path=big.txt", "Accept-Encoding", "gzip, identity;q=0")
                .headers()
                .firstValue("Content-Encoding"))
        .hasValue("gzip");
  }

  @Test
  void conditionalRequestsFollowLastModified() throws IOException {
    Path file = home.resolve("cond.txt");
    Files.writeString(file, "content");
    Instant modified = Instant.parse("2024-03-04T05:06:07Z");
    Files.setLastModifiedTime(file, FileTime.from(modified));
    HttpResponse<byte[]> first = get("?path=cond.txt");
    String lastModified = first.headers().firstValue("Last-Modified").orElseThrow();
    assertThat(lastModified).isEqualTo("Mon, 04 Mar 2024 05:06:07 GMT");
    assertThat(get("?path=cond.txt", "If-Modified-Since", lastModified).statusCode())
        .isEqualTo(304);
    assertThat(
            get("?path=cond.txt", "If-Modified-Since", "Sun, 03 Mar 2024 00:00:00 GMT")
                .statusCode())
        .isEqualTo(200);
    assertThat(
            get("?path=cond.txt", "If-Unmodified-Since", "Sun, 03 Mar 2024 00:00:00 GMT")
                .statusCode())
        .isEqualTo(412);
    HttpResponse<byte[]> staleRange =
        get("?path=cond.txt", "Range", "bytes=0-1", "If-Range", "Sun, 03 Mar 2024 00:00:00 GMT");
    assertThat(staleRange.statusCode()).isEqualTo(200);
    assertThat(get("?path=cond.txt", "Range", "bytes=0-1", "If-Range", lastModified).statusCode())
        .isEqualTo(206);
  }

  @Test
  void withATokenFilesNeedTheTokenOrAValidSignature() throws IOException {
    Files.writeString(home.resolve("s.txt"), "signed");
    envd.init("{\"accessToken\":\"secret-token\"}", null);

    HttpResponse<byte[]> none = get("?path=s.txt");
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(error(none).get("message").getAsString())
        .isEqualTo("missing signature query parameter");
    assertThat(get("?path=s.txt", "X-Access-Token", "secret-token").statusCode()).isEqualTo(200);
    assertThat(get("?path=s.txt", "X-Access-Token", "wrong").statusCode()).isEqualTo(401);

    String read = UrlSignature.sign("s.txt", Operation.READ, "", "secret-token", null);
    assertThat(get("?path=s.txt&signature=" + q(read)).statusCode()).isEqualTo(200);
    assertThat(get("?path=other.txt&signature=" + q(read)).statusCode()).isEqualTo(401);
    HttpResponse<byte[]> bad = get("?path=s.txt&signature=v1_nope");
    assertThat(bad.statusCode()).isEqualTo(401);
    assertThat(error(bad).get("message").getAsString()).isEqualTo("invalid signature");

    long future = Instant.now().getEpochSecond() + 600;
    String withUser = UrlSignature.sign("s.txt", Operation.READ, "root", "secret-token", future);
    assertThat(
            get("?path=s.txt&username=root&signature="
                    + q(withUser)
                    + "&signature_expiration="
                    + future)
                .statusCode())
        .isEqualTo(200);

    long past = Instant.now().getEpochSecond() - 10;
    String expired = UrlSignature.sign("s.txt", Operation.READ, "", "secret-token", past);
    HttpResponse<byte[]> gone =
        get("?path=s.txt&signature=" + q(expired) + "&signature_expiration=" + past);
    assertThat(gone.statusCode()).isEqualTo(401);
    assertThat(new String(gone.body(), StandardCharsets.UTF_8))
        .isEqualTo("{\"code\":401,\"message\":\"signature is already expired\"}");
    assertThat(get("?path=s.txt&signature=" + q(read) + "&signature_expiration=soon").statusCode())
        .isEqualTo(400);

    assertThat(postRaw("?path=w.txt&signature=" + q(read), "x".getBytes()).statusCode())
        .isEqualTo(401);
    String write = UrlSignature.sign("w.txt", Operation.WRITE, "", "secret-token", null);
    assertThat(postRaw("?path=w.txt&signature=" + q(write), "x".getBytes()).statusCode())
        .isEqualTo(200);
    assertThat(postRaw("?path=w2.txt", "x".getBytes()).statusCode()).isEqualTo(401);
    assertThat(
            postRaw("?path=w2.txt", "x".getBytes(), "X-Access-Token", "secret-token").statusCode())
        .isEqualTo(200);
  }

  @Test
  void aFullDiskIs507AndLeavesNoPartialFile() throws Exception {
    assumeTrue(EnvdFixture.isRoot(), "mounting a tmpfs needs root");
    Path mount = Files.createDirectories(dir.resolve("tiny"));
    Process mounting =
        new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount.toString())
            .redirectErrorStream(true)
            .start();
    assumeTrue(mounting.waitFor() == 0, "tmpfs could not be mounted here");
    try {
      byte[] big = new byte[3 * 1024 * 1024];
      new java.util.Random(1).nextBytes(big);
      HttpResponse<String> raw = postRaw("?path=" + q(mount.resolve("big.bin").toString()), big);
      assertThat(raw.statusCode()).as(raw.body()).isEqualTo(507);
      assertThat(error(raw).get("message").getAsString()).contains("not enough disk space");
      assertThat(Files.exists(mount.resolve("big.bin"))).isFalse();

      HttpResponse<String> multi =
          postMultipart(
              "",
              multipart(
                  new String[] {"file", mount.resolve("m.bin").toString(), "x".repeat(2_000_000)}));
      assertThat(multi.statusCode()).as(multi.body()).isEqualTo(507);
      assertThat(Files.exists(mount.resolve("m.bin"))).isFalse();
      assertThat(postRaw("?path=still-fine.txt", "ok".getBytes()).statusCode()).isEqualTo(200);
    } finally {
      new ProcessBuilder("umount", "-l", mount.toString()).inheritIO().start().waitFor();
    }
  }
}
