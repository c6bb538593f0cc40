package dev.sbx.orchestrator.grpc;

import dev.sbx.orchestrator.pause.SavedRecord;
import dev.sbx.proto.orchestrator.PausedSandbox;
import dev.sbx.proto.orchestrator.Snapshot;

/** Saved-state records to their protobuf messages. */
final class PauseMapping {
  private PauseMapping() {}

  static PausedSandbox toPaused(SavedRecord record) {
    return PausedSandbox.newBuilder()
        .setSandboxId(record.sandboxId())
        .setTemplateId(record.templateId())
        .setCpuCount(record.limits().cpuCount())
        .setMemoryMb(record.limits().memoryMB())
        .putAllMetadata(record.metadata())
        .setStartTime(ProtoMapping.toProto(record.startTime()))
        .setPausedAt(ProtoMapping.toProto(record.savedAt()))
        .setMemoryKept(record.memoryKept())
        .setSizeBytes(record.sizeBytes())
        .setEgress(ProtoMapping.toProto(record.egress()))
        .build();
  }

  static Snapshot toSnapshot(SavedRecord record) {
    return Snapshot.newBuilder()
        .setSnapshotId(record.id())
        .setSandboxId(record.sandboxId())
        .setTemplateId(record.templateId())
        .setCreatedAt(ProtoMapping.toProto(record.savedAt()))
        .setMemoryKept(record.memoryKept())
        .setSizeBytes(record.sizeBytes())
        .setCpuCount(record.limits().cpuCount())
        .setMemoryMb(record.limits().memoryMB())
        .build();
  }
}
