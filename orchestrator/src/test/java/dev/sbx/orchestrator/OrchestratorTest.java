package dev.sbx.orchestrator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Timestamp;
import dev.sbx.connect.ConnectClient;
import dev.sbx.connect.ConnectException;
import dev.sbx.connect.ServerStream;
import dev.sbx.orchestrator.fixture.TestTemplate;
import dev.sbx.orchestrator.lifecycle.EnvdException;
import dev.sbx.orchestrator.lifecycle.LifecycleSettings;
import dev.sbx.orchestrator.lifecycle.SandboxLifecycle;
import dev.sbx.orchestrator.lifecycle.SandboxNotFoundException;
import dev.sbx.orchestrator.lifecycle.SandboxRequest;
import dev.sbx.orchestrator.network.Ipv4Cidr;
import dev.sbx.orchestrator.network.NetworkConfig;
import dev.sbx.orchestrator.network.NetworkSlotPool;
import dev.sbx.orchestrator.rootfs.DirectoryTree;
import dev.sbx.orchestrator.rootfs.MountTable;
import dev.sbx.orchestrator.runtime.RuncRuntime;
import dev.sbx.orchestrator.runtime.RuncSettings;
import dev.sbx.orchestrator.template.TemplateDirectory;
import dev.sbx.proto.orchestrator.CreateSandboxRequest;
import dev.sbx.proto.orchestrator.DeleteSandboxRequest;
import dev.sbx.proto.orchestrator.EgressPolicy;
import dev.sbx.proto.orchestrator.GetSandboxRequest;
import dev.sbx.proto.orchestrator.ListSandboxesRequest;
import dev.sbx.proto.orchestrator.NodeInfo;
import dev.sbx.proto.orchestrator.NodeInfoRequest;
import dev.sbx.proto.orchestrator.NodeServiceGrpc;
import dev.sbx.proto.orchestrator.Sandbox;
import dev.sbx.proto.orchestrator.SandboxServiceGrpc;
import dev.sbx.proto.orchestrator.UpdateSandboxRequest;
import dev.sbx.proto.process.ProcessConfig;
import dev.sbx.proto.process.ProcessEvent;
import dev.sbx.proto.process.StartRequest;
import dev.sbx.proto.process.StartResponse;
import dev.sbx.proxy.routing.LocalNode;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.assertj.core.api.ThrowableAssert;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The orchestrator end to end, for real (root, runc, nftables, envd's dist): a gRPC client creates
 * sandboxes from a busybox template; commands and files go to envd at the sandbox's own address;
 * after every delete nothing of the sandbox is left (runc container, mounts, cgroups, sandbox dir,
 * netns, veth, nftables chain). Layout {@code sbxl} / bridge {@code sbxl0} / {@code 10.233.0.0/24},
 * no ready slots (so a released slot's index is not rebuilt behind the test's back), containers
 * {@code sbxl-…}, cgroups below {@code /sbxl}; only addresses of that bridge are contacted.
 */
class OrchestratorTest {
  static final NetworkConfig NETWORK =
      new NetworkConfig("sbxl", "sbxl0", Ipv4Cidr.parse("10.233.0.0/24"), 0);
  static final String CGROUP_PARENT = "sbxl";
  static final String TEMPLATE = "busybox";
  static final int MAX_SANDBOXES = 3;
  static final Duration WITHIN = Duration.ofSeconds(30);

  static Path workDir;
  static RuncSettings runc;
  static Orchestrator orchestrator;
  static ManagedChannel channel;
  static SandboxServiceGrpc.SandboxServiceBlockingStub sandboxes;
  static NodeServiceGrpc.NodeServiceBlockingStub node;
  static final HttpClient HTTP =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  static final AtomicInteger IDS = new AtomicInteger();

  /** Sandbox id → slot index (last octet of its address) of every sandbox a test created. */
  final Map<String, Integer> created = new java.util.LinkedHashMap<>();

  @BeforeAll
  static void startOrchestrator() throws Exception {
    assertThat(Files.getAttribute(Path.of("/proc/self"), "unix:uid"))
        .as("orchestrator tests need root")
        .isEqualTo(0);
    workDir = Files.createTempDirectory("sbxl-");
    TestTemplate.install(workDir.resolve("templates"), TEMPLATE);
    runc =
        new RuncSettings(
            Path.of("runc"),
            workDir.resolve("runc-state"),
            workDir.resolve("sandboxes"),
            "sbxl-",
            CGROUP_PARENT);
    OrchestratorConfig config =
        new OrchestratorConfig(
                InetAddress.getLoopbackAddress(),
                0,
                workDir.resolve("templates"),
                runc,
                NETWORK,
                new LifecycleSettings(
                    TestTemplate.envdDist(),
                    MAX_SANDBOXES,
                    WITHIN,
                    Duration.ofMillis(100),
                    List.of()))
            .withNodeProxy("127.0.0.1", 0);
    orchestrator = Orchestrator.start(config);
    channel =
        Grpc.newChannelBuilderForAddress(
                "127.0.0.1", orchestrator.port(), InsecureChannelCredentials.create())
            .build();
    sandboxes = SandboxServiceGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.MINUTES);
    node = NodeServiceGrpc.newBlockingStub(channel);
  }

  @AfterAll
  static void stopOrchestrator() throws Exception {
    List<String> left = new ArrayList<>();
    try {
      if (channel != null) {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      if (orchestrator != null) {
        orchestrator.close();
      }
    } finally {
      left.addAll(NetworkSlotPool.leftovers(NETWORK));
      NetworkSlotPool.removeAll(NETWORK);
      if (runc != null) {
        RuncRuntime runtime = new RuncRuntime(runc);
        runtime.list().forEach(s -> left.add("runc sandbox " + s));
        runtime.list().forEach(s -> runtime.remove(s.sandboxId()));
        left.addAll(
            MountTable.mountPointsUnder(runc.sandboxesDir()).stream()
                .map(p -> "mount " + p)
                .toList());
      }
      try (DirectoryStream<Path> hierarchies =
          Files.newDirectoryStream(Path.of("/sys/fs/cgroup"))) {
        for (Path hierarchy : hierarchies) {
          Files.deleteIfExists(hierarchy.resolve(CGROUP_PARENT)); // rmdir: fails if not empty
        }
      }
      if (workDir != null) {
        DirectoryTree.delete(workDir);
      }
    }
    assertThat(left).as("left on the host after the orchestrator stopped").isEmpty();
  }

  @AfterEach
  void deleteEverySandbox() throws Exception {
    SandboxLifecycle lifecycle = orchestrator.lifecycle();
    for (var sandbox : lifecycle.list()) {
      try {
        lifecycle.delete(sandbox.sandboxId());
      } catch (SandboxNotFoundException e) {
        // the reaper is deleting it
      }
    }
    long deadline = System.nanoTime() + WITHIN.toNanos();
    while (lifecycle.count() > 0 && System.nanoTime() - deadline < 0) {
      Thread.sleep(20);
    }
    List<String> left = new ArrayList<>();
    created.forEach((id, slot) -> left.addAll(leftovers(id, slot)));
    assertThat(left).as("left on the host after delete").isEmpty();
  }

  String newSandboxId() {
    return "l" + ProcessHandle.current().pid() + "x" + IDS.incrementAndGet();
  }

  CreateSandboxRequest.Builder createRequest(String sandboxId) {
    return CreateSandboxRequest.newBuilder().setSandboxId(sandboxId).setTemplateId(TEMPLATE);
  }

  Sandbox create(CreateSandboxRequest request) {
    Sandbox sandbox = sandboxes.create(request);
    created.put(sandbox.getSandboxId(), slotIndex(sandbox.getAddress()));
    return sandbox;
  }

  static int slotIndex(String address) {
    return slotIndexIn(NETWORK, address);
  }

  static int slotIndexIn(NetworkConfig network, String address) {
    return Ipv4Cidr.parseAddress(address) - network.pool().network();
  }

  /** Everything of the sandbox (and its slot) still on the host. */
  static List<String> leftovers(String sandboxId, int slot) {
    List<String> left = new ArrayList<>();
    RuncRuntime runtime = new RuncRuntime(runc);
    runtime.find(sandboxId).ifPresent(s -> left.add("runc sandbox " + s));
    MountTable.mountPointsUnder(runtime.sandboxDir(sandboxId))
        .forEach(mount -> left.add("mount " + mount));
    runtime.cgroupDirs(sandboxId).forEach(cgroup -> left.add("cgroup " + cgroup));
    if (Files.exists(runtime.sandboxDir(sandboxId))) {
      left.add("directory " + runtime.sandboxDir(sandboxId));
    }
    if (Files.exists(Path.of("/run/netns", NETWORK.netnsName(slot)))) {
      left.add("netns " + NETWORK.netnsName(slot));
    }
    if (exitCode("ip", "link", "show", NETWORK.vethName(slot)) == 0) {
      left.add("veth " + NETWORK.vethName(slot));
    }
    if (exitCode("nft", "list", "chain", "inet", NETWORK.table(), "egress_" + slot) == 0) {
      left.add("nft chain egress_" + slot);
    }
    return left;
  }

  static int exitCode(String... command) {
    try {
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("timed out: " + String.join(" ", command));
      }
      return process.exitValue();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static void assertStatus(ThrowableAssert.ThrowingCallable call, Status.Code code) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).as(e.toString()).isEqualTo(code));
  }

  static URI envd(Sandbox sandbox, String pathAndQuery) {
    return URI.create(
        "http://" + sandbox.getAddress() + ":" + sandbox.getEnvdPort() + pathAndQuery);
  }

  /** Runs {@code /bin/sh -c script} through envd's Connect API; returns exit code and stdout. */
  static String run(ConnectClient envd, String script) {
    StartRequest request =
        StartRequest.newBuilder()
            .setProcess(ProcessConfig.newBuilder().setCmd("/bin/sh").addArgs("-c").addArgs(script))
            .setStdin(false)
            .build();
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    Integer exitCode = null;
    try (ServerStream<StartResponse> events =
        envd.serverStream("process.Process/Start", request, StartResponse.getDefaultInstance())) {
      for (StartResponse response : events) {
        ProcessEvent event = response.getEvent();
        if (event.hasData() && event.getData().hasStdout()) {
          event.getData().getStdout().writeTo(stdout);
        }
        if (event.hasEnd()) {
          exitCode = event.getEnd().getExitCode();
        }
      }
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
    assertThat(exitCode).as("exit code of %s", script).isZero();
    return stdout.toString(StandardCharsets.UTF_8);
  }

  @Test
  void createRunCommandAndFilesThroughEnvdThenDeleteLeavesNothing() throws Exception {
    String id = newSandboxId();
    Instant before = Instant.now();

    Sandbox sandbox =
        create(
            createRequest(id)
                .setCpuCount(1)
                .setMemoryMb(256)
                .putEnvVars("GREETING", "hello")
                .putMetadata("owner", "test")
                .setEnvdAccessToken("token-1")
                .setDefaultUser("user")
                .setDefaultWorkdir("/home/user")
                .build());

    assertThat(sandbox.getSandboxId()).isEqualTo(id);
    assertThat(sandbox.getTemplateId()).isEqualTo(TEMPLATE);
    assertThat(NETWORK.pool().contains(Ipv4Cidr.parseAddress(sandbox.getAddress()))).isTrue();
    assertThat(sandbox.getEnvdPort()).isEqualTo(49983);
    assertThat(sandbox.getCpuCount()).isEqualTo(1);
    assertThat(sandbox.getMemoryMb()).isEqualTo(256);
    assertThat(sandbox.getMetadataMap()).containsExactly(Map.entry("owner", "test"));
    assertThat(sandbox.getStartTime().getSeconds()).isGreaterThanOrEqualTo(before.getEpochSecond());
    assertThat(sandbox.hasEndTime()).isFalse();
    assertThat(sandbox.getEgress()).isEqualTo(EgressPolicy.getDefaultInstance());

    // envd answers at the sandbox's own address
    HttpResponse<Void> health =
        HTTP.send(
            HttpRequest.newBuilder(envd(sandbox, "/health")).build(),
            HttpResponse.BodyHandlers.discarding());
    assertThat(health.statusCode()).isEqualTo(204);

    // a command as the default user, with /init's environment, in the default workdir
    try (ConnectClient envd =
        ConnectClient.builder(envd(sandbox, ""))
            .header("X-Access-Token", "token-1")
            .timeout(WITHIN)
            .build()) {
      assertThat(run(envd, "echo hi $GREETING; id -un; pwd; hostname"))
          .isEqualTo("hi hello\nuser\n/home/user\n" + id + "\n");
    }
    // /init set the access token: without it envd refuses
    try (ConnectClient anonymous =
        ConnectClient.builder(envd(sandbox, "")).timeout(WITHIN).build()) {
      assertThatThrownBy(() -> run(anonymous, "true")).isInstanceOf(ConnectException.class);
    }

    // a file written through envd's /files and read back
    String path = URLEncoder.encode("/home/user/dir/note.txt", StandardCharsets.UTF_8);
    byte[] content = "sbx orchestrator\n".getBytes(StandardCharsets.UTF_8);
    HttpResponse<String> upload =
        HTTP.send(
            HttpRequest.newBuilder(envd(sandbox, "/files?path=" + path))
                .header("X-Access-Token", "token-1")
                .header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(content))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(upload.statusCode()).as(upload.body()).isEqualTo(200);
    HttpResponse<byte[]> download =
        HTTP.send(
            HttpRequest.newBuilder(envd(sandbox, "/files?path=" + path))
                .header("X-Access-Token", "token-1")
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(download.statusCode()).isEqualTo(200);
    assertThat(download.body()).isEqualTo(content);

    // Get, List, Info, Update
    assertThat(sandboxes.get(GetSandboxRequest.newBuilder().setSandboxId(id).build()))
        .isEqualTo(sandbox);
    assertThat(sandboxes.list(ListSandboxesRequest.getDefaultInstance()).getSandboxesList())
        .containsExactly(sandbox);
    NodeInfo info = node.info(NodeInfoRequest.getDefaultInstance());
    assertThat(info.getRuntime()).isEqualTo("runc");
    assertThat(info.getSandboxes()).isEqualTo(1);
    assertThat(info.getMaxSandboxes()).isEqualTo(MAX_SANDBOXES);
    assertThat(info.getAllocatedCpuCount()).isEqualTo(1);
    assertThat(info.getAllocatedMemoryMb()).isEqualTo(256);
    assertThat(info.getTemplatesList()).containsExactly(TEMPLATE);
    assertThat(info.getHostCpuCount()).isEqualTo(Runtime.getRuntime().availableProcessors());
    assertThat(info.getHostMemoryMb()).isPositive();
    assertThat(info.getNodeProxyPort()).isEqualTo(orchestrator.nodeProxyPort());
    assertThat(info.getWarmPoolMap()).as("no warm pool configured").isEmpty();

    Timestamp endTime = Timestamp.newBuilder().setSeconds(before.getEpochSecond() + 3600).build();
    EgressPolicy egress =
        EgressPolicy.newBuilder()
            .addAllowedCidrs("192.0.2.0/24")
            .addDeniedCidrs("0.0.0.0/0")
            .build();
    Sandbox updated =
        sandboxes.update(
            UpdateSandboxRequest.newBuilder()
                .setSandboxId(id)
                .setEndTime(endTime)
                .setEgress(egress)
                .build());
    assertThat(updated.getEndTime()).isEqualTo(endTime);
    assertThat(updated.getEgress()).isEqualTo(egress);
    assertThat(sandboxes.get(GetSandboxRequest.newBuilder().setSandboxId(id).build()))
        .isEqualTo(updated);

    sandboxes.delete(DeleteSandboxRequest.newBuilder().setSandboxId(id).build());

    assertThat(leftovers(id, slotIndex(sandbox.getAddress()))).isEmpty();
    assertThat(sandboxes.list(ListSandboxesRequest.getDefaultInstance()).getSandboxesList())
        .isEmpty();
    assertStatus(
        () -> sandboxes.get(GetSandboxRequest.newBuilder().setSandboxId(id).build()),
        Status.Code.NOT_FOUND);
    assertStatus(
        () -> sandboxes.delete(DeleteSandboxRequest.newBuilder().setSandboxId(id).build()),
        Status.Code.NOT_FOUND);
  }

  @Test
  void envdThroughTheNodeProxyByHeadersAndByHost() throws Exception {
    String id = newSandboxId();
    Sandbox sandbox = create(createRequest(id).setEnvdAccessToken("token-p").build());
    URI proxy = URI.create("http://127.0.0.1:" + orchestrator.nodeProxyPort());

    // headers: Connect's server stream (process Start) and /files, both ways
    try (ConnectClient envd =
        ConnectClient.builder(proxy)
            .header("E2b-Sandbox-Id", id)
            .header("E2b-Sandbox-Port", "49983")
            .header("X-Access-Token", "token-p")
            .timeout(WITHIN)
            .build()) {
      assertThat(run(envd, "echo via proxy; hostname")).isEqualTo("via proxy\n" + id + "\n");
    }
    String path = URLEncoder.encode("/tmp/proxied.txt", StandardCharsets.UTF_8);
    byte[] content = "through the node proxy\n".getBytes(StandardCharsets.UTF_8);
    HttpResponse<String> upload =
        HTTP.send(
            HttpRequest.newBuilder(proxy.resolve("/files?path=" + path))
                .header("E2b-Sandbox-Id", id)
                .header("E2b-Sandbox-Port", "49983")
                .header("X-Access-Token", "token-p")
                .header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(content))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(upload.statusCode()).as(upload.body()).isEqualTo(200);
    HttpResponse<byte[]> download =
        HTTP.send(
            HttpRequest.newBuilder(proxy.resolve("/files?path=" + path))
                .header("E2b-Sandbox-Id", id)
                .header("E2b-Sandbox-Port", "49983")
                .header("X-Access-Token", "token-p")
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(download.statusCode()).isEqualTo(200);
    assertThat(download.body()).isEqualTo(content);

    // Host routing (<port>-<id>.<domain>): a Connect unary call (JSON) and /files
    String host = "49983-" + id + ".sbx.test";
    RawAnswer stat =
        raw(
            "POST",
            host,
            "/filesystem.Filesystem/Stat",
            Map.of("Content-Type", "application/json", "X-Access-Token", "token-p"),
            "{\"path\":\"/tmp/proxied.txt\"}".getBytes(StandardCharsets.UTF_8));
    assertThat(stat.status()).as(stat.text()).isEqualTo(200);
    assertThat(stat.text()).contains("\"name\":\"proxied.txt\"");
    RawAnswer file =
        raw("GET", host, "/files?path=" + path, Map.of("X-Access-Token", "token-p"), null);
    assertThat(file.status()).isEqualTo(200);
    assertThat(file.body()).isEqualTo(content);

    // envd's internal routes are not reachable through the proxy
    HttpResponse<String> init =
        HTTP.send(
            HttpRequest.newBuilder(proxy.resolve("/init"))
                .header("E2b-Sandbox-Id", id)
                .header("E2b-Sandbox-Port", "49983")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"accessToken\":\"stolen\"}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(init.statusCode()).isEqualTo(404);
    RawAnswer initByHost =
        raw(
            "POST",
            host,
            "/init",
            Map.of("Content-Type", "application/json"),
            new byte[] {'{', '}'});
    assertThat(initByHost.status()).isEqualTo(404);
    // the token /init set is still the one that works
    try (ConnectClient envd =
        ConnectClient.builder(envd(sandbox, "")).header("X-Access-Token", "token-p").build()) {
      assertThat(run(envd, "echo still")).isEqualTo("still\n");
    }

    // an unknown sandbox, and this one once deleted: 502 with E2B's JSON body
    for (String unknown : List.of("nosuchsandbox", id)) {
      if (unknown.equals(id)) {
        sandboxes.delete(DeleteSandboxRequest.newBuilder().setSandboxId(id).build());
      }
      HttpResponse<String> missing =
          HTTP.send(
              HttpRequest.newBuilder(proxy.resolve("/health"))
                  .header("E2b-Sandbox-Id", unknown)
                  .header("E2b-Sandbox-Port", "49983")
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(missing.statusCode()).isEqualTo(502);
      assertThat(missing.headers().firstValue("Content-Type"))
          .hasValueSatisfying(type -> assertThat(type).startsWith("application/json"));
      assertThat(com.google.gson.JsonParser.parseString(missing.body()).getAsJsonObject())
          .isEqualTo(
              com.google.gson.JsonParser.parseString(
                  "{\"sandboxId\":\""
                      + unknown
                      + "\",\"message\":\"The sandbox was not found\",\"code\":502}"));
    }
  }

  record RawAnswer(int status, Map<String, String> headers, byte[] body) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  /**
   * One HTTP/1.1 request to the node proxy over a plain socket, so that the Host header is ours
   * (the JDK client does not let a caller set it); reads until the server closes.
   */
  static RawAnswer raw(
      String method,
      String host,
      String pathAndQuery,
      Map<String, String> headers,
      byte @org.jspecify.annotations.Nullable [] body)
      throws java.io.IOException {
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", orchestrator.nodeProxyPort())) {
      socket.setSoTimeout((int) WITHIN.toMillis());
      StringBuilder head = new StringBuilder();
      head.append(method).append(' ').append(pathAndQuery).append(" HTTP/1.1\r\n");
      head.append("Host: ").append(host).append("\r\n");
      head.append("Connection: close\r\n");
      headers.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
      if (body != null) {
        head.append("Content-Length: ").append(body.length).append("\r\n");
      }
      head.append("\r\n");
      var out = socket.getOutputStream();
      out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      if (body != null) {
        out.write(body);
      }
      out.flush();
      byte[] all = socket.getInputStream().readAllBytes();
      String text = new String(all, StandardCharsets.ISO_8859_1);
      int end = text.indexOf("\r\n\r\n");
      assertThat(end).as("response head in %s", text).isPositive();
      String[] lines = text.substring(0, end).split("\r\n");
      int status = Integer.parseInt(lines[0].split(" ")[1]);
      Map<String, String> answerHeaders = new java.util.TreeMap<>(String.CASE_INSENSITIVE_ORDER);
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        answerHeaders.put(
            lines[i].substring(0, colon).strip(), lines[i].substring(colon + 1).strip());
      }
      byte[] rest = java.util.Arrays.copyOfRange(all, end + 4, all.length);
      if ("chunked".equalsIgnoreCase(answerHeaders.get("Transfer-Encoding"))) {
        rest = dechunk(rest);
      }
      return new RawAnswer(status, answerHeaders, rest);
    }
  }

  static byte[] dechunk(byte[] chunked) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int at = 0;
    while (true) {
      int lineEnd = at;
      while (!(chunked[lineEnd] == '\r' && chunked[lineEnd + 1] == '\n')) {
        lineEnd++;
      }
      String size = new String(chunked, at, lineEnd - at, StandardCharsets.ISO_8859_1);
      int semicolon = size.indexOf(';');
      int length =
          Integer.parseInt(semicolon < 0 ? size.strip() : size.substring(0, semicolon), 16);
      if (length == 0) {
        return out.toByteArray();
      }
      out.write(chunked, lineEnd + 2, length);
      at = lineEnd + 2 + length + 2;
    }
  }

  @Test
  void unknownTemplateIsFailedPreconditionAndLeavesNothing() {
    String id = newSandboxId();

    assertStatus(
        () -> sandboxes.create(createRequest(id).setTemplateId("no-such-template").build()),
        Status.Code.FAILED_PRECONDITION);

    assertThat(new RuncRuntime(runc).find(id)).isEmpty();
    assertThat(NetworkSlotPool.leftovers(NETWORK))
        .as("only the bridge and the tables")
        .containsExactlyInAnyOrder("link sbxl0", "table inet sbxl", "table bridge sbxl");
    assertThat(orchestrator.lifecycle().count()).isZero();
  }

  @Test
  void theServicesAnswerInProcessAndTheLocalNodeKnowsItsSandboxes() throws Exception {
    ManagedChannel local = orchestrator.localChannel();
    try {
      var inProcess =
          SandboxServiceGrpc.newBlockingStub(local).withDeadlineAfter(2, TimeUnit.MINUTES);
      String id = newSandboxId();
      Sandbox made = inProcess.create(createRequest(id).build());
      created.put(id, slotIndex(made.getAddress()));

      assertThat(sandboxes.get(GetSandboxRequest.newBuilder().setSandboxId(id).build()))
          .as("a sandbox made in-process, seen over TCP")
          .isEqualTo(made);
      NodeInfo info =
          NodeServiceGrpc.newBlockingStub(local).info(NodeInfoRequest.getDefaultInstance());
      assertThat(info.getSandboxes()).isEqualTo(1);
      assertThat(info.getNodeProxyPort()).isEqualTo(orchestrator.nodeProxyPort());
      assertStatus(
          () -> inProcess.get(GetSandboxRequest.newBuilder().setSandboxId("nope").build()),
          Status.Code.NOT_FOUND);

      LocalNode localNode = orchestrator.localNode("127.0.0.1");
      assertThat(localNode.isNodeProxy("127.0.0.1", orchestrator.nodeProxyPort())).isTrue();
      assertThat(localNode.isNodeProxy("127.0.0.1", orchestrator.port())).isFalse();
      assertThat(localNode.isNodeProxy("10.0.0.1", orchestrator.nodeProxyPort())).isFalse();
      assertThat(localNode.sandboxAddress(id)).isEqualTo(made.getAddress());
      assertThat(localNode.sandboxAddress("nope")).isNull();
      assertThat(localNode.dialAttempts()).isEqualTo(5);
    } finally {
      local.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void unknownSandboxIsNotFound() {
    assertStatus(
        () -> sandboxes.delete(DeleteSandboxRequest.newBuilder().setSandboxId("nope").build()),
        Status.Code.NOT_FOUND);
    assertStatus(
        () -> sandboxes.get(GetSandboxRequest.newBuilder().setSandboxId("nope").build()),
        Status.Code.NOT_FOUND);
    assertStatus(
        () ->
            sandboxes.update(
                UpdateSandboxRequest.newBuilder()
                    .setSandboxId("nope")
                    .setEndTime(Timestamp.newBuilder().setSeconds(1))
                    .build()),
        Status.Code.NOT_FOUND);
  }

  @Test
  void badInputIsInvalidArgument() {
    assertStatus(
        () -> sandboxes.create(createRequest("not valid!").build()), Status.Code.INVALID_ARGUMENT);
    assertStatus(
        () -> sandboxes.create(createRequest(newSandboxId()).setTemplateId("../etc").build()),
        Status.Code.INVALID_ARGUMENT);
    assertStatus(
        () ->
            sandboxes.create(
                createRequest(newSandboxId())
                    .setEgress(EgressPolicy.newBuilder().addAllowedCidrs("10.0.0.1/33"))
                    .build()),
        Status.Code.INVALID_ARGUMENT);
    assertStatus(
        () -> sandboxes.create(createRequest(newSandboxId()).setMemoryMb(1).build()),
        Status.Code.INVALID_ARGUMENT);
    assertStatus(
        () -> sandboxes.create(createRequest(newSandboxId()).putEnvVars("A=B", "x").build()),
        Status.Code.INVALID_ARGUMENT);
    assertThat(orchestrator.lifecycle().count()).isZero();
  }

  @Test
  void fullNodeIsResourceExhaustedAndDuplicateIsAlreadyExists() {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < MAX_SANDBOXES; i++) {
      ids.add(create(createRequest(newSandboxId()).build()).getSandboxId());
    }
    String extra = newSandboxId();

    assertStatus(
        () -> sandboxes.create(createRequest(extra).build()), Status.Code.RESOURCE_EXHAUSTED);
    assertStatus(
        () -> sandboxes.create(createRequest(ids.getFirst()).build()), Status.Code.ALREADY_EXISTS);
    assertThat(new RuncRuntime(runc).find(extra)).isEmpty();

    sandboxes.delete(DeleteSandboxRequest.newBuilder().setSandboxId(ids.getFirst()).build());
    assertStatus(
        () -> sandboxes.create(createRequest(ids.get(1)).build()), Status.Code.ALREADY_EXISTS);
    assertThat(sandboxes.list(ListSandboxesRequest.getDefaultInstance()).getSandboxesCount())
        .isEqualTo(MAX_SANDBOXES - 1);
  }

  @Test
  void sandboxPastItsEndTimeIsDeleted() throws Exception {
    String id = newSandboxId();
    Instant endTime = Instant.now().plusSeconds(1);
    Sandbox sandbox =
        create(
            createRequest(id)
                .setEndTime(
                    Timestamp.newBuilder()
                        .setSeconds(endTime.getEpochSecond())
                        .setNanos(endTime.getNano()))
                .build());
    assertThat(sandbox.getEndTime().getSeconds()).isEqualTo(endTime.getEpochSecond());

    long deadline = System.nanoTime() + WITHIN.toNanos();
    while (orchestrator.lifecycle().get(id).isPresent()) {
      assertThat(System.nanoTime() - deadline).as("deleted within %s", WITHIN).isNegative();
      Thread.sleep(50);
    }

    assertThat(Instant.now()).isAfterOrEqualTo(endTime);
    assertThat(leftovers(id, slotIndex(sandbox.getAddress()))).isEmpty();
  }

  @Test
  void envdNotHealthyInTimeRemovesContainerAndSlot() {
    SandboxLifecycle running = orchestrator.lifecycle();
    String id = newSandboxId();
    try (SandboxLifecycle impatient =
        new SandboxLifecycle(
            running.runtime(),
            running.network(),
            new TemplateDirectory(workDir.resolve("templates")),
            running.settings().withHealthTimeout(Duration.ofMillis(1)),
            InstantSource.system())) {

      assertThatThrownBy(() -> impatient.create(SandboxRequest.of(id, TEMPLATE)))
          .isInstanceOf(EnvdException.class)
          .hasMessageContaining("not healthy");
    }

    assertThat(leftovers(id, NETWORK.firstSlot())).isEmpty();
    assertThat(NetworkSlotPool.leftovers(NETWORK))
        .containsExactlyInAnyOrder("link sbxl0", "table inet sbxl", "table bridge sbxl");
  }

  /**
   * Create → envd healthy and initialised, through gRPC, five times; prints each and the median.
   */
  @Test
  void measureCreateToReady() {
    List<Long> millis = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      String id = newSandboxId();
      long start = System.nanoTime();
      create(createRequest(id).build());
      millis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
      sandboxes.delete(DeleteSandboxRequest.newBuilder().setSandboxId(id).build());
    }
    List<Long> sorted = millis.stream().sorted().toList();
    System.out.println(
        "create -> ready over gRPC (ms): " + millis + ", median " + sorted.get(sorted.size() / 2));
    assertThat(sorted.get(2)).isLessThan(WITHIN.toMillis());
  }
}
