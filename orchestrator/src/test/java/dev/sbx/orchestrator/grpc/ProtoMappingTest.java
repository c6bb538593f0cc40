package dev.sbx.orchestrator.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Timestamp;
import dev.sbx.orchestrator.lifecycle.NodeFullException;
import dev.sbx.orchestrator.lifecycle.SandboxExistsException;
import dev.sbx.orchestrator.lifecycle.SandboxNotFoundException;
import dev.sbx.orchestrator.lifecycle.SandboxRequest;
import dev.sbx.orchestrator.network.EgressPolicy;
import dev.sbx.orchestrator.network.Ipv4Cidr;
import dev.sbx.orchestrator.runtime.ResourceLimits;
import dev.sbx.orchestrator.template.UnknownTemplateException;
import dev.sbx.proto.orchestrator.CreateSandboxRequest;
import io.grpc.Status;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProtoMappingTest {

  @Test
  void createRequestMapsEveryFieldAndDefaultsZeroLimits() {
    SandboxRequest request =
        SandboxGrpcService.toRequest(
            CreateSandboxRequest.newBuilder()
                .setSandboxId("s1")
                .setTemplateId("base")
                .putEnvVars("A", "1")
                .putMetadata("k", "v")
                .setEnvdAccessToken("t")
                .setDefaultUser("user")
                .setDefaultWorkdir("/home/user")
                .setEndTime(Timestamp.newBuilder().setSeconds(100).setNanos(5))
                .setEgress(
                    dev.sbx.proto.orchestrator.EgressPolicy.newBuilder()
                        .setInternetAccess(true)
                        .addDeniedCidrs("10.0.0.0/8"))
                .build());

    assertThat(request.limits()).isEqualTo(ResourceLimits.DEFAULT);
    assertThat(request.envVars()).containsExactly(java.util.Map.entry("A", "1"));
    assertThat(request.metadata()).containsExactly(java.util.Map.entry("k", "v"));
    assertThat(request.accessToken()).isEqualTo("t");
    assertThat(request.defaultUser()).isEqualTo("user");
    assertThat(request.defaultWorkdir()).isEqualTo("/home/user");
    assertThat(request.endTime()).isEqualTo(Instant.ofEpochSecond(100, 5));
    assertThat(request.egress())
        .isEqualTo(new EgressPolicy(true, List.of(), List.of(Ipv4Cidr.parse("10.0.0.0/8"))));
  }

  @Test
  void absentOptionalFieldsAreNullAndNoEgress() {
    SandboxRequest request =
        SandboxGrpcService.toRequest(
            CreateSandboxRequest.newBuilder()
                .setSandboxId("s1")
                .setTemplateId("base")
                .setCpuCount(4)
                .setMemoryMb(1024)
                .build());

    assertThat(request.limits())
        .isEqualTo(new ResourceLimits(4, 1024, ResourceLimits.DEFAULT.pidsLimit()));
    assertThat(request.accessToken()).isNull();
    assertThat(request.defaultUser()).isNull();
    assertThat(request.endTime()).isNull();
    assertThat(request.egress()).isEqualTo(EgressPolicy.NONE);
  }

  @Test
  void negativeLimitsAndBadTimestampsAreInvalid() {
    assertThatThrownBy(
            () ->
                SandboxGrpcService.toRequest(
                    CreateSandboxRequest.newBuilder()
                        .setSandboxId("s1")
                        .setTemplateId("base")
                        .setCpuCount(-1)
                        .build()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> ProtoMapping.toInstant(Timestamp.newBuilder().setSeconds(1).setNanos(-1).build()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void egressRoundTrips() {
    EgressPolicy policy =
        new EgressPolicy(
            false, List.of(Ipv4Cidr.parse("192.0.2.0/24")), List.of(Ipv4Cidr.parse("0.0.0.0/0")));

    assertThat(ProtoMapping.toPolicy(ProtoMapping.toProto(policy))).isEqualTo(policy);
  }

  @Test
  void exceptionsMapToStatusCodes() {
    assertThat(code(new SandboxNotFoundException("x"))).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(code(new SandboxExistsException("x"))).isEqualTo(Status.Code.ALREADY_EXISTS);
    assertThat(code(new NodeFullException("full"))).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(code(new UnknownTemplateException("t"))).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(code(new IllegalArgumentException("bad"))).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(code(new RuntimeException("boom"))).isEqualTo(Status.Code.INTERNAL);
    assertThat(StatusMapping.toStatus(new NodeFullException("full")).getStatus().getDescription())
        .isEqualTo("full");
  }

  private static Status.Code code(RuntimeException e) {
    return StatusMapping.toStatus(e).getStatus().getCode();
  }
}
