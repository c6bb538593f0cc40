package dev.sbx.orchestrator.grpc;

import com.google.protobuf.Timestamp;
import dev.sbx.orchestrator.lifecycle.Sandbox;
import dev.sbx.orchestrator.network.EgressPolicy;
import dev.sbx.orchestrator.network.Ipv4Cidr;
import java.time.Instant;
import java.util.List;

/** Conversions between the API's messages and the lifecycle's types. */
final class ProtoMapping {
  /** Seconds of the latest Timestamp protobuf allows (9999-12-31T23:59:59Z). */
  private static final long MAX_SECONDS = 253_402_300_799L;

  private ProtoMapping() {}

  static dev.sbx.proto.orchestrator.Sandbox toProto(Sandbox sandbox) {
    var out =
        dev.sbx.proto.orchestrator.Sandbox.newBuilder()
            .setSandboxId(sandbox.sandboxId())
            .setTemplateId(sandbox.templateId())
            .setAddress(sandbox.slot().ip())
            .setEnvdPort(49983)
            .setCpuCount(sandbox.limits().cpuCount())
            .setMemoryMb(sandbox.limits().memoryMB())
            .putAllMetadata(sandbox.metadata())
            .setStartTime(toProto(sandbox.startTime()))
            .setEgress(toProto(sandbox.egress()));
    Instant endTime = sandbox.endTime();
    if (endTime != null) {
      out.setEndTime(toProto(endTime));
    }
    return out.build();
  }

  static Timestamp toProto(Instant instant) {
    return Timestamp.newBuilder()
        .setSeconds(instant.getEpochSecond())
        .setNanos(instant.getNano())
        .build();
  }

  /**
   * @throws IllegalArgumentException if the timestamp is out of protobuf's range
   */
  static Instant toInstant(Timestamp timestamp) {
    if (timestamp.getSeconds() < 0
        || timestamp.getSeconds() > MAX_SECONDS
        || timestamp.getNanos() < 0
        || timestamp.getNanos() > 999_999_999) {
      throw new IllegalArgumentException("timestamp out of range: " + timestamp);
    }
    return Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos());
  }

  static dev.sbx.proto.orchestrator.EgressPolicy toProto(EgressPolicy policy) {
    return dev.sbx.proto.orchestrator.EgressPolicy.newBuilder()
        .setInternetAccess(policy.internetAccess())
        .addAllAllowedCidrs(policy.allowed().stream().map(Ipv4Cidr::toString).toList())
        .addAllDeniedCidrs(policy.denied().stream().map(Ipv4Cidr::toString).toList())
        .build();
  }

  /**
   * @throws IllegalArgumentException if a CIDR is not an IPv4 CIDR
   */
  static EgressPolicy toPolicy(dev.sbx.proto.orchestrator.EgressPolicy policy) {
    return new EgressPolicy(
        policy.getInternetAccess(),
        parse(policy.getAllowedCidrsList()),
        parse(policy.getDeniedCidrsList()));
  }

  private static List<Ipv4Cidr> parse(List<String> cidrs) {
    return cidrs.stream().map(Ipv4Cidr::parse).toList();
  }
}
