package dev.sbx.orchestrator.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sbx.orchestrator.runtime.ResourceLimits;
import dev.sbx.proto.orchestrator.CreateSandboxRequest;
import org.junit.jupiter.api.Test;

/** cpu and memory left at 0 in {@code Create} take the template's limits. */
class TemplateLimitsTest {
  static final ResourceLimits TEMPLATE = new ResourceLimits(1, 256, 1024);

  static CreateSandboxRequest.Builder request() {
    return CreateSandboxRequest.newBuilder().setSandboxId("s1").setTemplateId("t");
  }

  @Test
  void zeroTakesTheTemplatesLimitsAndAValueOverridesIt() {
    assertThat(SandboxGrpcService.toRequest(request().build(), TEMPLATE).limits())
        .isEqualTo(TEMPLATE);
    assertThat(SandboxGrpcService.toRequest(request().setCpuCount(3).build(), TEMPLATE).limits())
        .isEqualTo(new ResourceLimits(3, 256, 1024));
    assertThat(SandboxGrpcService.toRequest(request().setMemoryMb(2048).build(), TEMPLATE).limits())
        .isEqualTo(new ResourceLimits(1, 2048, 1024));
  }
}
